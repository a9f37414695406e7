"""The class as a whole: students, their saved work, the teacher's controls.

- ``store``: the class's database (SQLite, or PostgreSQL), with migrations.
- ``breaker``: the circuit breaker that makes a down or hung database cost the pages nothing.
- ``classwork``: the class as a whole (every part below over one store), settings, deletion.
- ``records``: what the records are made of (students, drawings, images as bytes), the shared base.
- ``roster``: students, nicknames and resume codes.
- ``drawings``: saved drawings, labels, sharing, the teacher's counts.
- ``pushes``: what the teacher pushes to everyone, and how often pages ask for it.
- ``export``: drawings as CSV and ZIP files.
- ``nicknames``: a nickname's normal form, its key and what makes one unacceptable.
- ``quotas``: how much one student, address or class may add.
- ``retention``: deleting what the class keeps no longer, on a timer.
- ``pending_push``: a push a student's stroke replaced before they saw it: when to say so.
- ``labelling``: which drawing a label panel labels (also under a pushed digit).
- ``push_follow``: what a teacher's push does to a student's session (notice, catch-up, way back).
- ``challenges``: challenges, their submissions checked on the server, the leaderboard.
- ``class_model``: a copy of the served network fine-tuned on the class's drawings.
- ``access``: the teacher's password, wrong guesses and one-time sign-in links.
"""
