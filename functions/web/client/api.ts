import { showAlert, tr } from './core.ts';

const tokenKey = 'concert.token';

export type Answer<T> =
  | { ok: true; status: number; body: T }
  | { ok: false; status: number; code: string; message: string };

/**
 * The user's bearer token: handed over by the host application in the fragment (`#token=…`, never sent to
 * a server), or from the dev sign-in; kept in localStorage for the other pages.
 */
export function token(): string | null {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const given = fragment.get('token');
  if (given) {
    localStorage.setItem(tokenKey, given);
    fragment.delete('token');
    const rest = fragment.toString();
    history.replaceState(null, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
  }
  return localStorage.getItem(tokenKey);
}

export function setToken(value: string | null): void {
  if (value === null) localStorage.removeItem(tokenKey);
  else localStorage.setItem(tokenKey, value);
}

export interface Claims {
  sub?: string;
  role?: string;
}

/** The token's claims, read for display only (the API verifies it). */
export function claims(): Claims {
  const value = token();
  const payload = value?.split('.')[1];
  if (!payload) return {};
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (ch) => ch.charCodeAt(0)))) as Claims;
  } catch {
    return {};
  }
}

/** A call to the API; a network failure throws (the caller decides whether to retry). */
export async function api<T>(
  path: string,
  options: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  const bearer = token();
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method: options.method ?? 'GET',
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  const body = text ? (JSON.parse(text) as unknown) : null;
  if (response.ok) return { ok: true, status: response.status, body: body as T };
  const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
  return {
    ok: false,
    status: response.status,
    code: error?.code ?? `HTTP_${response.status}`,
    message: error?.message ?? response.statusText,
  };
}

/** Shows the error of an answer that was not expected on this page. */
export function complain(answer: { code: string }): void {
  showAlert(tr('errorGeneric', { code: answer.code }));
}
