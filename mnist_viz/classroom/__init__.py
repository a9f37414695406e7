"""The class as a whole: students, their saved work, the teacher's controls.

- ``store``: the class's database (SQLite, or PostgreSQL), with migrations.
- ``breaker``: the circuit breaker that makes a down or hung database cost the pages nothing.
- ``classwork``: students, drawings, labels, pushes, challenges, export and deletion.
- ``nicknames``: a nickname's normal form, its key and what makes one unacceptable.
- ``quotas``: how much one student, address or class may add.
- ``retention``: deleting what the class keeps no longer, on a timer.
- ``pending_push``: a push a student's stroke replaced before they saw it: when to say so.
- ``labelling``: which drawing a label panel labels (also under a pushed digit).
- ``push_follow``: what a teacher's push does to a student's session (notice, catch-up, way back).
- ``challenges``: checking a challenge submission on the server.
- ``class_model``: a copy of the served network fine-tuned on the class's drawings.
- ``access``: the teacher's password, wrong guesses and one-time sign-in links.
"""
