// Keeps a joined student's resume code in this tab's sessionStorage, beside the page's address.
//
// The address carries the code (?student=...), but a page switch clears the address's
// parameters until the server's next run puts them back; when the server goes away in that
// moment (a replica restarting), the page reconnects to a new session with an address that no
// longer holds the code, and the student would be lost. The tab keeps it here and hands it to
// the new session. sessionStorage belongs to this tab only: another tab is nobody, and closing
// the tab forgets it (a browser's "reopen closed tab" restores it, as it restores the address
// with the code); Leave forgets it at once. On a shared computer, a student leaves with Leave.

const KEY = "mnistviz_student";

export default function ({ data, setStateValue }) {
  try {
    if (data.code) {
      sessionStorage.setItem(KEY, data.code);
    } else if (data.forget) {
      sessionStorage.removeItem(KEY);
    } else {
      const kept = sessionStorage.getItem(KEY);
      if (kept) setStateValue("code", kept);
    }
  } catch (e) {
    // storage switched off: the address alone carries the code
  }
}
