// The dashboard speaks vigild's public API (docs/server.md) and nothing else: every action it
// offers is an API call, audited by vigild like any other. Signed in with the session cookie;
// each write carries the CSRF token that the sign-in returned.

export class ApiError extends Error {
  constructor(public status: number, message: string, public code = "", public field = "",
              public body: any = null) {
    super(message);
  }
}

// The CSRF token of the cookie session. Kept in localStorage so that every tab of this origin
// can write; its presence also tells a fresh page that a session may exist (without it the
// page shows the sign-in form at once, instead of asking vigild and logging a 401).
const kCsrfKey = "vigil.csrf";

export function csrfToken(): string {
  return localStorage.getItem(kCsrfKey) ?? "";
}

// Called when the server says our session is gone (401): the app shows the sign-in page.
let onUnauthenticated: () => void = () => {};
export function setUnauthenticatedHandler(f: () => void) {
  onUnauthenticated = f;
}

export interface Page<T> {
  items: T;
  headers: Headers;
}

async function request<T>(method: string, path: string, body?: unknown,
                          extra?: Record<string, string>): Promise<Page<T>> {
  const headers: Record<string, string> = { Accept: "application/json", ...extra };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  let res: Response;
  try {
    res = await fetch(path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "vigild cannot be reached (network error); is it running?");
  }
  const text = await res.text();
  let data: any = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    const message = data && typeof data === "object" && data.error ? data.error
                                                                     : `HTTP ${res.status}`;
    const err = new ApiError(res.status, message, data?.code ?? "", data?.field ?? "", data);
    if (res.status === 401 && path !== "/api/v1/session") {
      localStorage.removeItem(kCsrfKey);
      onUnauthenticated();
    }
    if (res.status === 403 && data?.code === "csrf")
      err.message = "The page lost its session token: sign out and sign in again.";
    throw err;
  }
  return { items: data as T, headers: res.headers };
}

export const api = {
  get: <T>(path: string) => request<T>("GET", path).then((p) => p.items),
  page: <T>(path: string) => request<T>("GET", path),
  post: <T>(path: string, body: unknown) => request<T>("POST", path, body).then((p) => p.items),
  put: <T>(path: string, body: unknown, extra?: Record<string, string>) =>
    request<T>("PUT", path, body, extra).then((p) => p.items),
  patch: <T>(path: string, body: unknown) => request<T>("PATCH", path, body).then((p) => p.items),
  del: <T>(path: string) => request<T>("DELETE", path).then((p) => p.items),
};

export interface Me {
  username: string;
  role: "viewer" | "analyst" | "admin";
}

export async function signIn(username: string, password: string): Promise<Me> {
  const r = await api.post<any>("/api/v1/session", { username, password, cookie: true });
  if (r.csrf_token) localStorage.setItem(kCsrfKey, r.csrf_token);
  return { username: r.username, role: r.role };
}

export async function signOut() {
  try {
    await api.del("/api/v1/session");
  } finally {
    localStorage.removeItem(kCsrfKey);
  }
}

export async function whoAmI(): Promise<Me | null> {
  if (!csrfToken()) return null;
  try {
    const r = await api.get<any>("/api/v1/session");
    return { username: r.username, role: r.role };
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      localStorage.removeItem(kCsrfKey);
      return null;
    }
    throw e;
  }
}

// Builds "?a=1&b=2" from the non-empty values.
export function qs(params: Record<string, string | number | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== "") u.set(k, String(v));
  const s = u.toString();
  return s ? "?" + s : "";
}

export const enc = encodeURIComponent;
