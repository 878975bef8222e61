/**
 * The demo's runtime configuration as it lives in the Clone server: one key
 * per setting under {@link CONFIG_PREFIX}, the value a duration in ms as
 * decimal text. The demo client applies the request periods, the launcher
 * the chaos interval, each live when the key changes.
 */

/** Clone subtree of the demo's configuration. */
export const CONFIG_PREFIX = "config/demo/";

/** Settings the demo client applies: the period of each traffic flow, ms. */
export const CLIENT_SETTINGS = {
  "echo-period": "mdp echo",
  "slow-period": "mdp slow",
  "ppp-period": "ppp",
  "titanic-period": "titanic",
} as const;

/** The demo client's periods at start (ms), seeded into Clone by the launcher. */
export const CLIENT_DEFAULTS: Readonly<Record<ClientSetting, number>> = {
  "echo-period": 100,
  "slow-period": 500,
  "ppp-period": 100,
  "titanic-period": 3000,
};

/** A setting of the demo client. */
export type ClientSetting = keyof typeof CLIENT_SETTINGS;

/** The setting the launcher applies: ms between worker kills (0 = none). */
export const CHAOS_SETTING = "chaos-interval";

/** Shortest chaos interval accepted through Clone (0 = no kills), ms: a killed worker is back after 1.5 s. */
export const MIN_CHAOS_INTERVAL = 500;
/** Longest chaos interval accepted through Clone, ms (one hour). */
export const MAX_CHAOS_INTERVAL = 3_600_000;

/** Lower bound of a request period, ms. */
export const MIN_PERIOD = 10;
/** Upper bound of a request period, ms. */
export const MAX_PERIOD = 60_000;

/** True for a setting of the demo client. */
export function isClientSetting(name: string): name is ClientSetting {
  return Object.hasOwn(CLIENT_SETTINGS, name);
}

/**
 * A configuration value as a number of ms within `[min, max]`, or an error
 * text naming what was expected (bad values are reported and ignored, never
 * applied).
 */
export function parseMs(
  text: string | undefined,
  min: number,
  max: number,
): { ok: true; value: number } | { ok: false; reason: string } {
  const value = text === undefined || !/^\d+$/.test(text.trim()) ? NaN : Number(text.trim());
  if (!Number.isSafeInteger(value) || value < min || value > max)
    return { ok: false, reason: `expected an integer number of ms in ${min}..${max}` };
  return { ok: true, value };
}
