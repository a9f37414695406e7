// Follows the teacher's pushes without costing the server a script run per student and second.
//
// Each server keeps the class's latest push id in a small static file (pages/_push.py). This
// asks for it twice a second; only when it differs from the one the page last followed does it
// tell the server, which then makes the pushed digit the student's current digit.

export default function ({ parentElement, data, setTriggerValue }) {
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
          setTriggerValue("push", latest);
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
