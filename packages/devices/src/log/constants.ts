/**
 * Records a {@link LogPublisher} keeps until the broker acknowledges them,
 * 10 000; when full, the oldest is dropped (counted). Project bound (the
 * notes ask only that logging never blocks the application).
 */
export const DEFAULT_LOG_BUFFER = 10_000;

/** Records a publisher sends ahead of the broker's acknowledgements, 1000 (libzmq's default HWM). */
export const DEFAULT_LOG_WINDOW = 1000;

/**
 * A publisher resends from its oldest unacknowledged record after this long
 * without an acknowledgement, 1000 ms (the Guide's default heartbeat interval).
 */
export const DEFAULT_LOG_RESEND = 1000;

/** A log file is rotated when it reaches this size, 16 MiB (project choice). */
export const DEFAULT_LOG_FILE_BYTES = 16 * 1024 * 1024;

/** A log file is rotated when it is this old, 3 600 000 ms (1 h; the notes' "cycle log files"). */
export const DEFAULT_LOG_ROTATE_INTERVAL = 3_600_000;

/** Log files kept; older ones are deleted, 10 (retention; project choice). */
export const DEFAULT_LOG_MAX_FILES = 10;
