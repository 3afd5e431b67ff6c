export { authenticateHandshake, type HandshakeDeps, type HandshakeResult } from './handshake-auth.js';
