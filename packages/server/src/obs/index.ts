export { createServerMetrics, type ServerMetrics } from './server-metrics.js';
