//! The one small script every page carries (inline, with the response's CSP nonce), for what
//! must work before the WASM has loaded and costs the WASM nothing:
//!
//! - A form posted before the WASM loaded comes back, when refused, as a fresh load of the
//!   same page with the error in the URL (`__err`). The script puts back what was typed,
//!   never a password or a file.
//! - On the import page, a chosen package file fills the text box, and its package name fills
//!   the Name field (`data-fill-text` / `data-fill-name` on the file input).
//! - An open menu (`details.menu`) closes on a click outside it, or on one of its links or
//!   buttons (so it is closed on the page that link opens).

pub const PAGE_SCRIPT: &str = r#"(() => {
  const KEY = 'lockstep-posted-form';
  const skipped = ['password', 'hidden', 'file', 'submit', 'button'];
  document.addEventListener('submit', (e) => {
    const form = e.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== 'post') return;
    const fields = [];
    for (const el of form.elements) {
      if (!el.name || skipped.includes(el.type)) continue;
      const choice = el.type === 'checkbox' || el.type === 'radio';
      fields.push([el.name, el.value, choice ? el.checked : null]);
    }
    try {
      sessionStorage.setItem(KEY, JSON.stringify({ action: form.getAttribute('action'), path: location.pathname, fields }));
    } catch (_) {}
  }, true);
  document.addEventListener('DOMContentLoaded', () => {
    if (!new URLSearchParams(location.search).has('__err')) return;
    let saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(KEY)); sessionStorage.removeItem(KEY); } catch (_) {}
    if (!saved || saved.path !== location.pathname) return;
    for (const form of document.forms) {
      if (form.getAttribute('action') !== saved.action) continue;
      for (const [name, value, checked] of saved.fields) {
        for (const el of form.elements) {
          if (el.name !== name || skipped.includes(el.type)) continue;
          if (checked === null) el.value = value;
          else if (el.value === value) el.checked = checked;
        }
      }
    }
  });
  document.addEventListener('click', (e) => {
    for (const menu of document.querySelectorAll('details.menu[open]')) {
      const summary = e.target.closest && e.target.closest('summary');
      const own = summary && summary.parentElement === menu;
      if (!menu.contains(e.target) || (!own && e.target.closest('a, button'))) menu.open = false;
    }
  });
  document.addEventListener('change', (e) => {
    const input = e.target;
    if (!(input instanceof HTMLInputElement) || input.type !== 'file' || !input.dataset.fillText) return;
    const file = input.files && input.files[0];
    if (!file) return;
    file.text().then((text) => {
      const set = (id, value) => {
        const el = document.getElementById(id);
        if (el) { el.value = value; el.dispatchEvent(new Event('input', { bubbles: true })); }
      };
      set(input.dataset.fillText, text);
      let name = '';
      try { name = JSON.parse(text).name || ''; } catch (_) {}
      if (input.dataset.fillName) set(input.dataset.fillName, name || file.name.replace(/(\.lockstep)?\.json$/i, ''));
    });
  });
})();"#;
