import type { OptionSpecs } from "@zg/app-kit";

/** Default endpoint of `zg-file-server`: fileio3's tcp port 6000 on loopback (booksbyus/zguide `examples/C/fileio3.c`). */
export const DEFAULT_FILE_SERVER_ENDPOINT = "tcp://127.0.0.1:6000";

/** The options of `zg-file-server`. */
export const options = {
  root: {
    type: "string",
    description:
      "directory to serve (required); requests cannot leave it (.., absolute paths, symlinks out: 403)",
  },
  endpoints: {
    type: "endpoints",
    default: [DEFAULT_FILE_SERVER_ENDPOINT],
    description: "endpoints to bind the server's ROUTER socket to (zg-fetch connects here)",
  },
} as const satisfies OptionSpecs;
