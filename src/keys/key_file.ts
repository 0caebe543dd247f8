/**
 * The key list file (`CHOREOAI_KEYS_FILE`): its schema, parsing with errors that name the entry,
 * and serialisation. It stores a SHA-256 digest of each key, never the key.
 */
import { z } from "zod";
import { BudgetSchema } from "../spend/budget.ts";
import { isIpOrCidr } from "./scopes.ts";

const DIGEST_REGEXP = /^sha256:[0-9a-f]{64}$/;
const ID_REGEXP = /^key_[A-Za-z0-9]{6,64}$/;

/** Field names that would hold a plaintext key: a file with one is refused. */
const PLAINTEXT_FIELDS = ["key", "api_key", "token", "secret", "plaintext"] as const;

const isoTime = z.iso.datetime({
  offset: true,
  error: "must be an ISO 8601 time such as 2026-11-25T10:00:00Z",
});

const cidr = z.string().refine(isIpOrCidr, {
  message: "must be an IP address or CIDR such as 10.0.0.0/8 or 2001:db8::/32",
});

const endpoint = z.string().regex(/^\/[\w\-./]*$/, "must be a path such as /v1/chat/completions");

/** What a key is for: `client` keys call the model endpoints, `admin` keys `/metrics`, `/admin`. */
export const KEY_ROLES = ["client", "admin"] as const;
/** One of {@linkcode KEY_ROLES}. */
export type KeyRole = typeof KEY_ROLES[number];

/**
 * One key of the list, as stored. Scopes that are null (or absent) do not restrict. `role` is
 * left as written: absent (what the CLI writes for a client key, and what files from before
 * roles hold) means `client`; read it with {@linkcode keyRole}. `budget` is absent for a key
 * without its own budget (the gateway's default then applies, if any).
 */
export const KeyRecordSchema = z.strictObject({
  id: z.string().regex(ID_REGEXP, "must look like key_7Hq2xM9aLp"),
  name: z.string().min(1, "must not be empty").max(200),
  role: z.enum(KEY_ROLES, { error: 'must be "client" or "admin"' }).optional(),
  digest: z.string().regex(DIGEST_REGEXP, "must be sha256: followed by 64 lowercase hex digits"),
  hint: z.string().max(40).refine((v) => v.includes("…"), {
    message: "must be a shortened hint such as sk-choreo-AbC…9xYz, never the key",
  }),
  created_at: isoTime,
  expires_at: isoTime.nullable().default(null),
  revoked_at: isoTime.nullable().default(null),
  rotated_from: z.string().regex(ID_REGEXP).nullable().default(null),
  models: z.array(z.string().min(1)).nullable().default(null),
  endpoints: z.array(endpoint).nullable().default(null),
  ips: z.array(cidr).nullable().default(null),
  rpm: z.int().min(1).nullable().default(null),
  tpm: z.int().min(1).nullable().default(null),
  budget: BudgetSchema.optional(),
  metadata: z.record(z.string(), z.unknown()).default({}),
});

/** One stored key, with every optional field but `role` and `budget` filled in. */
export type KeyRecord = z.output<typeof KeyRecordSchema>;

/** A stored key's role: `client` unless the record says `admin`. */
export function keyRole(record: Pick<KeyRecord, "role">): KeyRole {
  return record.role ?? "client";
}

/** The whole file. */
export interface KeyFile {
  readonly version: 1;
  readonly keys: readonly KeyRecord[];
}

const FileSchema = z.strictObject({
  version: z.literal(1, { error: "must be 1" }),
  keys: z.array(z.unknown(), { error: "must be an array of keys" }),
});

/** The key list file is not valid; the message names the entry and field. */
export class KeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyFileError";
  }
}

function describeEntry(index: number, raw: unknown): string {
  const id = typeof raw === "object" && raw !== null && "id" in raw ? String(raw.id) : undefined;
  return id === undefined ? `keys[${index}]` : `keys[${index}] (${id})`;
}

/**
 * Parses and validates the text of a key list.
 *
 * @throws {KeyFileError} naming the first bad entry and field, a plaintext key, or a duplicate
 *   id or digest.
 */
export function parseKeyFile(text: string): KeyFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new KeyFileError(`Key list is not valid JSON: ${(error as Error).message}`);
  }
  const file = FileSchema.safeParse(json);
  if (!file.success) {
    const issue = file.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "the file";
    throw new KeyFileError(`Key list is invalid: ${where} ${issue?.message ?? "is malformed"}`);
  }
  const keys: KeyRecord[] = [];
  const ids = new Map<string, string>();
  const digests = new Map<string, string>();
  file.data.keys.forEach((raw, index) => {
    const entry = describeEntry(index, raw);
    if (typeof raw === "object" && raw !== null) {
      const field = PLAINTEXT_FIELDS.find((name) => name in raw);
      if (field !== undefined) {
        throw new KeyFileError(
          `Key list entry ${entry} stores a plaintext key in "${field}": store only its digest`,
        );
      }
    }
    const parsed = KeyRecordSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.length ? issue.path.join(".") : "entry";
      const message = issue?.code === "unrecognized_keys"
        ? `has unknown field(s) ${issue.keys.join(", ")}`
        : issue?.message ?? "is malformed";
      throw new KeyFileError(`Key list entry ${entry}: ${field} ${message}`);
    }
    const key = parsed.data;
    const sameId = ids.get(key.id);
    if (sameId !== undefined) {
      throw new KeyFileError(`Key list entries ${sameId} and ${entry} share the id ${key.id}`);
    }
    const sameDigest = digests.get(key.digest);
    if (sameDigest !== undefined) {
      throw new KeyFileError(
        `Key list entries ${sameDigest} and ${entry} have the same digest (the same key)`,
      );
    }
    ids.set(key.id, entry);
    digests.set(key.digest, entry);
    keys.push(key);
  });
  return { version: 1, keys };
}

/** Serialises a key list as stable, readable JSON. */
export function serializeKeyFile(file: KeyFile): string {
  return `${JSON.stringify({ version: 1, keys: file.keys }, null, 2)}\n`;
}
