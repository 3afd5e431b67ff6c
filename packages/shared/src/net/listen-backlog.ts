/**
 * The accept-queue length DMR's HTTP listeners ask for (the kernel caps it at `net.core.somaxconn`, 4096 on
 * current Linux). Node's default is 511. When a burst of connections meets a busy event loop (a load spike on an
 * agent, every agent reconnecting to a restarted server), connections beyond the queue are dropped at the SYN and
 * the client retransmits after 1 s, then 3 s, then 7 s: measured on agent A at 2× overload as a p99 of 6.8 s for
 * accepted messages whose p95 was 0.26 s. A longer queue lets them wait in the kernel instead.
 */
export const LISTEN_BACKLOG = 4096;
