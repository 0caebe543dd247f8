/**
 * A throwaway self-signed ECDSA P-256 certificate for 127.0.0.1 and localhost, made with
 * WebCrypto in the test (no key is stored in the repository, no openssl needed).
 */

function bytesOf(...parts: (Uint8Array | number[])[]): Uint8Array<ArrayBuffer> {
  const all = parts.flatMap((part) => [...part]);
  return new Uint8Array(all);
}

/** A DER tag-length-value. */
function tlv(tag: number, ...content: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const body = bytesOf(...content);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return bytesOf([tag], length, body);
}

function oid(text: string): Uint8Array {
  const [a, b, ...rest] = text.split(".").map(Number) as [number, number, ...number[]];
  const out = [40 * a + b];
  for (const value of rest) {
    const base128 = [value & 0x7f];
    for (let v = value >> 7; v > 0; v >>= 7) base128.unshift((v & 0x7f) | 0x80);
    out.push(...base128);
  }
  return tlv(0x06, new Uint8Array(out));
}

/** A positive DER INTEGER from big-endian bytes. */
function integer(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  return tlv(0x02, (trimmed[0] as number) & 0x80 ? bytesOf([0], trimmed) : trimmed);
}

const text = (s: string) => new TextEncoder().encode(s);
const sequence = (...content: Uint8Array[]): Uint8Array<ArrayBuffer> => tlv(0x30, ...content);

function pem(label: string, der: Uint8Array): string {
  const base64 = btoa(String.fromCharCode(...der)).replace(/(.{64})/g, "$1\n");
  return `-----BEGIN ${label}-----\n${base64}\n-----END ${label}-----\n`;
}

/** A certificate (PEM) and its private key (PKCS#8 PEM) for 127.0.0.1 and localhost. */
export async function selfSignedCertificate(): Promise<{ cert: string; key: string }> {
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const algorithm = sequence(oid("1.2.840.10045.4.3.2")); // ecdsa-with-SHA256
  const name = sequence(tlv(0x31, sequence(oid("2.5.4.3"), tlv(0x0c, text("localhost")))));
  const validity = sequence(tlv(0x17, text("200101000000Z")), tlv(0x17, text("491231235959Z")));
  const altNames = sequence(
    tlv(0x82, text("localhost")),
    tlv(0x87, new Uint8Array([127, 0, 0, 1])),
  );
  const extensions = tlv(0xa3, sequence(sequence(oid("2.5.29.17"), tlv(0x04, altNames))));
  const tbs = sequence(
    tlv(0xa0, integer(new Uint8Array([2]))),
    integer(crypto.getRandomValues(new Uint8Array(8))),
    algorithm,
    name,
    validity,
    name,
    spki,
    extensions,
  );
  const raw = new Uint8Array(
    await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, tbs),
  );
  const signature = sequence(integer(raw.subarray(0, 32)), integer(raw.subarray(32)));
  const cert = sequence(tbs, algorithm, tlv(0x03, bytesOf([0], signature)));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  return { cert: pem("CERTIFICATE", cert), key: pem("PRIVATE KEY", pkcs8) };
}
