// Defaults of @zg/clone, each with its Guide source (ch. 5, "Reliable Pub-Sub (Clone Pattern)").

/**
 * Silence after which a client gives up on a server and fails over, ms.
 * Guide: `SERVER_TTL` 5000 ms in `clone.c` / `clone.py`.
 */
export const DEFAULT_SERVER_TTL = 5000;

/**
 * Interval of the server's HUGZ heartbeat on the publisher, ms.
 * Guide: `clonesrv6.c` sends HUGZ every 1000 ms.
 */
export const DEFAULT_HUGZ_INTERVAL = 1000;

/**
 * Cadence of the server's TTL flush (expired keys deleted and published), ms.
 * Guide: `clonesrv5.c` / `clonesrv6.c` flush every 1000 ms.
 */
export const DEFAULT_FLUSH_INTERVAL = 1000;

/** Largest key accepted by a server, bytes. Guide: `kvmsg` caps keys at 255 bytes. */
export const DEFAULT_MAX_KEY_SIZE = 255;

/** Largest value accepted by a server, bytes. Project value (the Guide has no bound): 1 MiB. */
export const DEFAULT_MAX_VALUE_SIZE = 1_048_576;

/** Most keys a server holds; a new key beyond it is refused. Project value (the Guide has no bound). */
export const DEFAULT_MAX_KEYS = 1_000_000;

/**
 * Largest message a server's collector accepts, bytes (ZMQ_MAXMSGSIZE; a
 * larger one disconnects the sender). Project value: the value bound plus
 * room for key, UUID and properties.
 */
export const DEFAULT_CLONE_MAX_MESSAGE_SIZE = 1_114_112;

/**
 * How many recent update UUIDs a server remembers to drop a re-sent or
 * duplicated update (client re-sends, the HA pair's two copies). Project
 * value (the Guide's model 6 keeps only its pending list).
 */
export const DEFAULT_DEDUP_WINDOW = 100_000;

/**
 * Most updates a passive HA server holds on its pending list. Project value
 * (the Guide's list is unbounded); beyond it the oldest is dropped, counted.
 */
export const DEFAULT_MAX_PENDING = 100_000;

/**
 * How long a passive HA server keeps a pending update its active peer never
 * published, ms. Project value (the Guide keeps them forever).
 */
export const DEFAULT_PENDING_TTL = 60_000;

/**
 * Messages a server's publisher queues per subscriber before libzmq drops
 * (ZMQ_SNDHWM): the bound on what one slow subscriber can cost the server.
 * libzmq's default (1000) is what the Guide runs with.
 */
export const DEFAULT_PUBLISHER_HWM = 1000;

/**
 * How long a client waits for its subscription to be confirmed (a first
 * message on the server's publisher, at least a HUGZ) before it asks for a
 * snapshot anyway, ms. Project value: one HUGZ interval plus margin (the
 * Guide sends ICANHAZ at once and races the subscription).
 */
export const DEFAULT_SUBSCRIBE_WAIT = 1500;

/** Snapshot requests sent to one server before it answers (anti-storm). Guide: 2 in `clone.c`. */
export const DEFAULT_SNAPSHOT_REQUESTS = 2;

/**
 * How long a client's `set()` waits for its update to come back from the
 * server with a sequence number, ms. Project value (the Guide never
 * confirms an update).
 */
export const DEFAULT_SET_TIMEOUT = 10_000;

/**
 * Interval at which a client re-sends an update not yet confirmed, ms (the
 * server drops the copies by UUID). Project value.
 */
export const DEFAULT_RESEND_INTERVAL = 1000;

/** Updates a client buffers while it syncs; more restarts the sync. Project value. */
export const DEFAULT_MAX_BUFFERED = 100_000;
