import { format } from '../format.ts';
import type { Key } from '../i18n.ts';
import { type PageData, pageDataId } from '../page-data.ts';

export const data = JSON.parse(document.getElementById(pageDataId)?.textContent ?? '{}') as PageData;

export function tr(key: Key, values?: Record<string, string | number>): string {
  return format(data.strings[key], values);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

/** One element with attributes and children; text goes in as text, never as HTML. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number | boolean | undefined> = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children);
  return element;
}

/** Polite news for screen readers (the position, a hold, a payment). */
export function announce(text: string): void {
  const region = byId('announcer');
  region.textContent = '';
  // A change in the next frame is what makes screen readers read the same text twice.
  requestAnimationFrame(() => {
    region.textContent = text;
  });
}

export function showAlert(text: string | null): void {
  const alert = byId('alert');
  alert.hidden = text === null;
  alert.textContent = text ?? '';
}

export function money(amount: number): string {
  return new Intl.NumberFormat(data.lang === 'ko' ? 'ko-KR' : 'en-US', {
    style: 'currency',
    currency: 'KRW',
  }).format(amount);
}

export function dateTime(iso: string): string {
  return new Intl.DateTimeFormat(data.lang === 'ko' ? 'ko-KR' : 'en-US', {
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(new Date(iso));
}

/** 75 → "1:15"; a wait longer than an hour in hours and minutes. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

export function done(id: string): void {
  byId(id).removeAttribute('aria-busy');
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
