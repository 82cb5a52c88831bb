import { api, claims, complain, setToken, token } from './api.ts';
import { byId, data, el, tr } from './core.ts';

/**
 * Who is signed in, with a sign-out; without a token the dev sign-in (only where the server mints dev
 * tokens) or a pointer to the host application. The console signs in as an operator.
 */
export function accountArea(): void {
  const area = byId('account');
  if (token()) {
    const signOut = el('button', { type: 'button', class: 'secondary' }, tr('signOut'));
    signOut.addEventListener('click', () => {
      setToken(null);
      location.reload();
    });
    area.replaceChildren(el('p', {}, tr('signedInAs', { user: claims().sub ?? '?' }), ' ', signOut));
    return;
  }
  if (!data.devAuth) {
    area.replaceChildren(el('p', {}, tr('signInHost')));
    return;
  }
  const role = data.page === 'admin' ? 'admin' : 'user';
  const input = el('input', {
    id: 'sign-in-user',
    name: 'userId',
    required: true,
    pattern: '[A-Za-z0-9_\\-]{1,64}',
    autocomplete: 'username',
    value: role === 'admin' ? 'operator' : '',
  });
  const form = el(
    'form',
    { class: 'inline-form', 'aria-labelledby': 'sign-in-title' },
    el('h2', { id: 'sign-in-title' }, tr('signInDev')),
    el('p', { class: 'muted' }, tr('signInHint')),
    el('label', { for: 'sign-in-user' }, tr('userId')),
    input,
    el('button', { type: 'submit' }, tr('signIn')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const answer = await api<{ token: string }>('/v1/dev/tokens', {
      method: 'POST',
      body: { userId: input.value, role },
    });
    if (!answer.ok) return complain(answer);
    setToken(answer.body.token);
    location.reload();
  });
  area.replaceChildren(form);
}
