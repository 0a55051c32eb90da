import { h } from './dom.js';
import { normalizeToken } from './token.js';

/**
 * The form the page shows when the signaling server refuses it for want of a viewer token: a
 * labelled password field and a submit button, with the reason in an alert region that screen
 * readers announce. Focuses the field; calls `onSubmit` with the trimmed token.
 */
export class TokenForm {
  readonly element: HTMLFormElement;
  readonly #message: HTMLElement;
  readonly #input: HTMLInputElement;

  constructor(onSubmit: (token: string) => void) {
    this.#input = h('input', {
      attrs: {
        id: 'robocam-token',
        name: 'token',
        type: 'password',
        autocomplete: 'current-password',
        spellcheck: 'false',
        required: '',
        maxlength: '512',
        'aria-describedby': 'robocam-token-message',
      },
    });
    this.#message = h('p', { class: 'token-message', attrs: { id: 'robocam-token-message', role: 'alert' } });
    this.element = h(
      'form',
      { class: 'token-form', attrs: { 'aria-labelledby': 'robocam-token-title', novalidate: '' } },
      h('h2', { attrs: { id: 'robocam-token-title' } }, 'Viewer token required'),
      this.#message,
      h('label', { attrs: { for: 'robocam-token' } }, 'Viewer token'),
      this.#input,
      h('button', { attrs: { type: 'submit' } }, 'Connect'),
    );
    this.element.hidden = true;
    this.element.addEventListener('submit', (event) => {
      event.preventDefault();
      const token = normalizeToken(this.#input.value);
      if (token === undefined) {
        this.#message.textContent = 'Enter the viewer token (at most 512 characters).';
        this.#input.focus();
        return;
      }
      this.#input.value = '';
      this.hide();
      onSubmit(token);
    });
  }

  /** Shows the form with `message` (why a token is asked for) and focuses the field. */
  show(message: string): void {
    this.#message.textContent = message;
    this.element.hidden = false;
    this.#input.focus();
  }

  hide(): void {
    this.element.hidden = true;
  }
}
