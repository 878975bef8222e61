import { integerOption } from "@zg/core";
import { DEFAULT_MDP_MAX_MESSAGE_SIZE } from "../majordomo/constants.js";

/**
 * Validates a `maxMessageSize` option (bytes, an integer ≥ 0; 0 = no limit),
 * with {@link DEFAULT_MDP_MAX_MESSAGE_SIZE} (16 MiB) as the one default of
 * every broker and server in this package.
 *
 * @throws `ZG_INVALID_ARGUMENT` for a negative or non-integer value.
 * @internal
 */
export function maxMessageSizeOption(value: number | undefined): number {
  return integerOption("maxMessageSize", value, DEFAULT_MDP_MAX_MESSAGE_SIZE);
}

/**
 * The zeromq.js `maxMessageSize` socket option (ZMQ_MAXMSGSIZE) for a
 * validated size: 0 (no limit) is libzmq's -1.
 *
 * @internal
 */
export function socketMaxMessageSize(size: number): number {
  return size === 0 ? -1 : size;
}
