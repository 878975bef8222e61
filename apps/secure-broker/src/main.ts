#!/usr/bin/env node
// zg-secure-broker: Ironhouse CURVE + ZAP, the entitled pub-sub broker and the group-key service in one process.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { AppError, defineApp, runApp } from "@zg/app-kit";
import {
  generateCertificate,
  isZ85Key,
  KeyService,
  loadCertificate,
  saveCertificate,
  SecurePubSubBroker,
  ZapHandler,
  type Certificate,
} from "@zg/secure-pubsub";
import { options } from "./config.js";

function ownCertificate(dir: string, name: string): { cert: Certificate; created: boolean } {
  const file = join(dir, `${name}.key`);
  if (existsSync(`${file}_secret`))
    return { cert: loadCertificate(`${file}_secret`), created: false };
  const cert = generateCertificate({ name });
  saveCertificate(cert, file);
  return { cert, created: true };
}

function issuerKey(value: string | undefined): string {
  if (value === undefined || value === "") {
    throw new AppError(
      "--issuer is required: the token issuer's public certificate or Z85 Ed25519 key",
      {
        option: "issuer",
      },
    );
  }
  const file: string = value;
  if (isZ85Key(file)) return file;
  let cert: Certificate;
  try {
    cert = loadCertificate(file);
  } catch (error) {
    throw new AppError(
      `--issuer: cannot read a certificate from ${file}: ${(error as Error).message}`,
      {
        option: "issuer",
      },
    );
  }
  const key = cert.metadata["sign-public-key"];
  if (key === undefined || !isZ85Key(key)) {
    throw new AppError(
      `--issuer: ${file} has no sign-public-key (create the issuer with zg-keys new)`,
      {
        option: "issuer",
      },
    );
  }
  return key;
}

const app = defineApp({
  name: "secure-broker",
  bin: "zg-secure-broker",
  description:
    "entitled, end-to-end encrypted pub-sub over CURVE + ZAP (Ironhouse), with a group-key service",
  guide:
    'the author\'s notes "Encrypted Publish-Subscribe", "disconnected security" and the authenticated pub-sub sketch; czmq zauth/zcert',
  options,
  async start(ctx) {
    const issuer = issuerKey(ctx.options.issuer);
    const keysDir = await ctx.ensureDirectory("keys");
    const allowDir = await ctx.ensureDirectory("allow");
    const broker = ownCertificate(keysDir, "broker");
    const service = ownCertificate(keysDir, "key-service");
    const zap = ctx.add("zap", new ZapHandler({ allow: allowDir, logger: ctx.logger }));
    await zap.start(); // before any CURVE server: fail closed
    const pubsub = ctx.add(
      "broker",
      new SecurePubSubBroker({
        endpoints: ctx.options.frontend,
        issuers: [issuer],
        refreshInterval: ctx.options.refreshInterval,
        curve: {
          handler: zap,
          secretKey: broker.cert.secretKey as string,
          domain: ctx.options.domain,
        },
        logger: ctx.logger,
      }),
    );
    const keys = ctx.add(
      "keys",
      new KeyService({
        endpoints: ctx.options.keyService,
        secretKey: service.cert.secretKey as string,
        issuers: [issuer],
        rotateInterval: ctx.options.rotateInterval,
        curve: { handler: zap, domain: ctx.options.domain },
        logger: ctx.logger,
      }),
    );
    const { endpoints: frontend } = await pubsub.start();
    const { endpoints: keyService } = await keys.start();
    return {
      endpoints: { frontend, keyService },
      info: {
        brokerKey: broker.cert.publicKey,
        keyServiceKey: service.cert.publicKey,
        generatedKeys: broker.created || service.created,
        allowedKeys: zap.stats().allowedKeys,
        domain: ctx.options.domain,
      },
    };
  },
});

await runApp(app);
