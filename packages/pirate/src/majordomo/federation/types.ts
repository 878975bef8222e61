/** Per-peer figures of {@link FederationStats}. */
export interface FederationPeerStats {
  /** 1 while the peer is alive (its state flow arrives), else 0. */
  up: number;
  /** Whether this broker connects to the peer (`--peer`) or the peer connected to it. */
  configured: boolean;
  /** Services the peer announced with live workers. */
  services: number;
  /** Requests the peer still promises to take now (its announced capacity minus what we sent since). */
  idleWorkers: number;
  /** Live workers the peer announced, over its services. */
  workers: number;
  /** Requests forwarded to the peer now awaiting its reply. */
  inFlight: number;
  /** Requests forwarded to the peer. */
  forwarded: number;
  /** Final replies the peer returned for them. */
  returned: number;
  /** Forwarded requests the peer did not answer (it was lost, restarted, unreachable or timed out): re-queued or answered `"502"`. */
  failed: number;
  /** Of `failed`: the peer did not answer within `forwardTimeout`. */
  timedOut: number;
  /** Replies that came after their request had failed over (dropped, never delivered twice). */
  lateReplies: number;
  /** Requests the peer forwarded to us. */
  requestsIn: number;
  /** Times the peer joined or returned. */
  joins: number;
  /** Times the peer was lost. */
  losses: number;
}

/** Federation figures of a Majordomo broker (`stats().federation`). */
export interface FederationStats {
  /** This broker's name (its routing id on the peering sockets). */
  name: string;
  /** The peering endpoints actually bound. */
  endpoints: string[];
  /** Peers alive now. */
  peers: number;
  /** Requests forwarded to peers. */
  forwarded: number;
  /** Final replies returned by peers. */
  returned: number;
  /** Forwarded requests whose peer failed them (re-queued or answered `"502"`). */
  failed: number;
  /** Of `failed`: timed out. */
  timedOut: number;
  /** Replies dropped because their request had already failed over. */
  lateReplies: number;
  /** Requests peers forwarded to us. */
  requestsIn: number;
  /** Requests refused because they would have entered a broker twice or exceeded `maxHops`. */
  loopsRefused: number;
  /** STATE messages sent. */
  statesSent: number;
  /** Bytes of STATE messages sent (the state-flow traffic). */
  stateBytesSent: number;
  /** STATE messages accepted. */
  statesReceived: number;
  /** STATE messages ignored as stale or replayed (version marker not newer). */
  staleStates: number;
  /** Messages from a routing id that is not a peer: ignored. */
  impostors: number;
  /** Malformed peering messages: counted and dropped, never change routing. */
  protocolErrors: number;
  /** Per peer. */
  perPeer: Record<string, FederationPeerStats>;
}
