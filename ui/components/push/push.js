// Follows the teacher's pushes without costing the server a script run per student and second.
//
// Each server keeps the class's latest push id in a small static file (ui/components/push/__init__.py). This
// asks for it every data.every_ms (250-500 ms); only when it differs from the one the page last
// followed does it tell the server, which then makes the pushed digit the student's current
// digit.
//
// The id is sent as a state value, not a one-shot trigger: the browser sends its components'
// state with every request, so a push whose request was merged with a stroke's (a script run in
// progress takes only the latest request) still arrives with the next one.
//
// When the answer is "too many requests" (429), a server error (5xx) or no answer at all, the
// page asks half as often each time (up to every MAX_DELAY_MS), so a class does not hammer a
// struggling server; after STALLED_MS without an answer it says, in words, that pushes are not
// arriving, and the sentence goes as soon as one does.

const MAX_DELAY_MS = 8000;
const STALLED_MS = 10000;

export default function ({ parentElement, data, setStateValue }) {
  let seen = data.seen;
  let delay = data.every_ms;
  let lastAnswer = Date.now();
  let timer = null;
  let stopped = false;
  const notice = parentElement.querySelector(".push-stalled");

  function show(text) {
    if (notice && notice.textContent !== text) notice.textContent = text;
  }

  async function ask() {
    let answered = false;
    let why = "no answer";
    try {
      const response = await fetch(data.url, { cache: "no-store" });
      if (response.ok) {
        answered = true;
        const latest = (await response.json()).id;
        // any change: ids start again when the class is deleted, or the database changes
        if (Number.isInteger(latest) && latest !== seen) {
          seen = latest;
          setStateValue("push", latest);
        }
      } else {
        why = `the server answered ${response.status}`;
        // 404: no push file yet (a new class): that is an answer, not a failure
        answered = response.status === 404;
      }
    } catch (e) {
      why = "no answer";
    }
    if (answered) {
      delay = data.every_ms;
      lastAnswer = Date.now();
      show("");
    } else {
      delay = Math.min(delay * 2, MAX_DELAY_MS);
      if (Date.now() - lastAnswer >= STALLED_MS) {
        const seconds = Math.round((Date.now() - lastAnswer) / 1000);
        show(
          `The teacher's pushes are not arriving (${why} for ${seconds} s); ` +
            `this page keeps asking, every ${Math.round(delay / 1000)} s.`
        );
      }
    }
    if (!stopped) timer = setTimeout(ask, delay);
  }

  timer = setTimeout(ask, delay);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
