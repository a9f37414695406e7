"""The class as a whole: students, their saved work, the teacher's controls.

- ``store``: the class's database (SQLite, or PostgreSQL), with migrations.
- ``classwork``: students, drawings, labels, pushes, challenges, export and deletion.
- ``challenges``: checking a challenge submission on the server.
- ``class_model``: a copy of the served network fine-tuned on the class's drawings.
- ``access``: the teacher's password.
"""
