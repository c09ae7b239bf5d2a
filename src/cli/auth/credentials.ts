import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { UsageError } from "../errors.ts";

// Sign-ins are kept per server in the user's config directory, readable by the user
// alone (0600 in a 0700 directory), as other command-line clients keep tokens.

export type StoredSession =
  | {
      kind: "dev";
      as: string;
      organization?: string;
      accessToken: string;
      /** Seconds since the epoch. */
      expiresAt: number;
    }
  | {
      kind: "oidc";
      issuer: string;
      clientId: string;
      scopes: string;
      accessToken: string;
      refreshToken?: string;
      expiresAt: number;
    };

interface Store {
  /** The server of the last `elevate login`, used when ELEVATE_URL is unset. */
  url?: string;
  sessions: Record<string, StoredSession>;
}

export const defaultServerUrl = "http://localhost:4000";

/** ELEVATE_CONFIG_DIR, else the platform's per-user config directory. */
export function configDir(env: NodeJS.ProcessEnv): string {
  if (env.ELEVATE_CONFIG_DIR) return env.ELEVATE_CONFIG_DIR;
  if (process.platform === "win32") {
    return path.join(env.APPDATA ?? path.join(homedir(), "AppData", "Roaming"), "elevate");
  }
  return path.join(env.XDG_CONFIG_HOME || path.join(homedir(), ".config"), "elevate");
}

/** A server URL as one key: no trailing slash, lower-case scheme and host. */
export function normalizeUrl(url: string): string {
  if (!URL.canParse(url)) throw new UsageError(`not a server URL: ${url}`);
  return new URL(url).toString().replace(/\/+$/, "");
}

export class CredentialStore {
  readonly file: string;

  constructor(env: NodeJS.ProcessEnv) {
    this.file = path.join(configDir(env), "credentials.json");
  }

  private async read(): Promise<Store> {
    try {
      return JSON.parse(await readFile(this.file, "utf8")) as Store;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { sessions: {} };
      throw error;
    }
  }

  /** Written whole to a private temporary file and renamed, so no reader sees half a file. */
  private async write(store: Store): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const temporary = `${this.file}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(store, null, 2)}\n`, { mode: 0o600 });
    // The mode of writeFile only applies to new files, and the umask may narrow it oddly.
    await chmod(temporary, 0o600);
    await rename(temporary, this.file);
  }

  async currentUrl(): Promise<string | undefined> {
    return (await this.read()).url;
  }

  async session(url: string): Promise<StoredSession | undefined> {
    return (await this.read()).sessions[normalizeUrl(url)];
  }

  async save(url: string, session: StoredSession, { makeCurrent = false } = {}): Promise<void> {
    const store = await this.read();
    store.sessions[normalizeUrl(url)] = session;
    if (makeCurrent) store.url = normalizeUrl(url);
    await this.write(store);
  }

  async remove(url: string): Promise<boolean> {
    const store = await this.read();
    const key = normalizeUrl(url);
    if (!store.sessions[key]) return false;
    delete store.sessions[key];
    await this.write(store);
    return true;
  }
}
