import { AppError, type OptionSpecs } from "@zg/app-kit";
import { DEFAULT_CLOCK_RESOLUTIONS, parseResolution, resolutionName } from "@zg/devices";

/** Default endpoint of `zg-clock` (project-chosen; the Guide names none). */
export const DEFAULT_CLOCK_ENDPOINT = "tcp://127.0.0.1:5580";

/** The options of `zg-clock`. */
export const options = {
  endpoints: {
    type: "endpoints",
    default: [DEFAULT_CLOCK_ENDPOINT],
    description: "endpoints to bind the clock's PUB socket to (subscribers connect here)",
  },
  resolutions: {
    type: "string",
    default: DEFAULT_CLOCK_RESOLUTIONS.map(resolutionName).join(","),
    description:
      "comma-separated tick resolutions (e.g. 100ms,1s,1m), one topic each (ZGCLK01/<name>/)",
  },
} as const satisfies OptionSpecs;

/** Parses `--resolutions`. @throws {@link AppError} naming the option. */
export function parseResolutions(text: string): number[] {
  const parts = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (parts.length === 0) {
    throw new AppError("--resolutions: expected at least one resolution", {
      app: "clock",
      option: "resolutions",
    });
  }
  return parts.map((p) => {
    try {
      return parseResolution(p);
    } catch (error) {
      throw new AppError(`--resolutions: ${(error as Error).message}`, {
        app: "clock",
        option: "resolutions",
        cause: error,
      });
    }
  });
}
