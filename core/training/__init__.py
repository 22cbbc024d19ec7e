"""Training (培训): modules from core and plugins, sessions, quizzes, qualifications, plans.

Public functions other areas call:

* :func:`core.training.qualifications.missing_modules` — which of some modules a person
  holds no valid qualification for (the gates of task assignment, team roles and plugins);
* :func:`core.training.records.training_hours` — a volunteer's training hours in a period
  (their service record).
"""
