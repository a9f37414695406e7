// Follows the teacher's pushes without costing the server a script run per student and second.
//
// Each server keeps the class's latest push id in a small static file (pages/_push.py). This
// asks for it every data.every_ms (250-500 ms); only when it differs from the one the page last followed does it
// tell the server, which then makes the pushed digit the student's current digit.

// The id is sent as a state value, not a one-shot trigger: the browser sends its components'
// state with every request, so a push whose request was merged with a stroke's (a script run in
// progress takes only the latest request) still arrives with the next one.

export default function ({ parentElement, data, setStateValue }) {
  let seen = data.seen;
  let asked = false;
  const timer = setInterval(async () => {
    if (asked) return; // one question at a time on a slow network
    asked = true;
    try {
      const response = await fetch(data.url, { cache: "no-store" });
      if (response.ok) {
        const latest = (await response.json()).id;
        // any change: ids start again when the class is deleted, or the database changes
        if (Number.isInteger(latest) && latest !== seen) {
          seen = latest;
          setStateValue("push", latest);
        }
      }
    } catch (e) {
      // offline for a moment: ask again in a second
    } finally {
      asked = false;
    }
  }, data.every_ms);
  return () => clearInterval(timer);
}
