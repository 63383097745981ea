/**
 * A self-signed certificate for local TLS listeners (Kamailio's SIP over TLS): phones on this
 * machine accept it once told to (baresip: `sip_verify_server no`, the default). Kept in `dir`
 * and reused while it is valid, so a phone that pinned it keeps working across restarts.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

export async function selfSignedCertificate(dir: string, commonName: string, days = 825): Promise<CertificateFiles> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') };
  if (existsSync(files.certFile) && existsSync(files.keyFile) && (await stillValid(files.certFile))) return files;
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    String(days),
    '-subj',
    `/CN=${commonName}`,
    '-addext',
    `subjectAltName=DNS:${commonName},DNS:localhost,IP:127.0.0.1`,
    '-keyout',
    files.keyFile,
    '-out',
    files.certFile,
  ]);
  return files;
}

/** Valid for at least another day (`openssl x509 -checkend` exits 1 otherwise). */
async function stillValid(certFile: string): Promise<boolean> {
  try {
    await promisify(execFile)('openssl', ['x509', '-checkend', '86400', '-noout', '-in', certFile]);
    return true;
  } catch {
    return false;
  }
}
