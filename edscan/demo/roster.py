"""The classroom the demo app serves: one test student (the persona), classmates, a teacher.

Only the test student's values are seeded canaries; everything else is fixed, fictional filler
so a scan has realistic first-party responses to learn from without producing findings of its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoStudent:
    """The test student the session logs in as; values come from a fresh persona."""

    first_name: str
    last_name: str
    email: str
    username: str
    password: str
    birth_date: str  # YYYY-MM-DD
    student_id: str  # the district's SIS id
    state_id: str  # a CT-style 10-digit SASID
    grade: str  # "7"
    school: str
    essay: str  # a unique sentence the student writes into the essay
    advertising_id: str  # the test tablet's advertising id (AAID)
    device_id: str  # the tablet's Android ID
    lat: str  # where the tablet is, as the OS reports it
    lon: str

    @classmethod
    def from_persona(cls, values: Mapping[str, str]) -> DemoStudent:
        """The student a persona describes (keys as in ``edscan.detect.persona``)."""
        return cls(
            first_name=values["student.first_name"],
            last_name=values["student.last_name"],
            email=values["student.email"],
            username=values["student.username"],
            password=values["student.password"],
            birth_date=values["student.dob"],
            student_id=values["student.student_id"],
            state_id=values["student.state_id"],
            grade=values["student.grade"],
            school=values["student.school"],
            essay=values["custom.essay"],
            advertising_id=values["student.advertising_id"],
            device_id=values["student.device_id"],
            lat=values["student.lat"],
            lon=values["student.lon"],
        )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def provider_id(self) -> str:
        """The app's own id for the student: a 24-hex ObjectID derived from the SIS id."""
        return hashlib.sha256(b"brindlewick:" + self.student_id.encode()).hexdigest()[:24]

    @property
    def birth_year(self) -> int:
        return int(self.birth_date[:4])


CLASS_ID = "cls-7b-science"
CLASS_NAME = "Grade 7 Science (Period 3)"
TEACHER = {"id": "t-0042", "name": "Ms. Okonkwo-Reyes", "title": "Science teacher"}
CLASSMATES = (
    {"id": "s-1001", "name": "Avery Lindqvist"},
    {"id": "s-1002", "name": "Jonah Petrakis"},
    {"id": "s-1003", "name": "Priya Anand-Moore"},
)
ASSIGNMENT_ID = "asg-photosynthesis-essay"
QUIZ_ID = "quiz-cells-1"
VIDEO_ID = "vid-photosynthesis"
ESSAY_PROMPT = "In one paragraph, explain how a leaf turns sunlight into food."


def profile(student: DemoStudent) -> dict[str, Any]:
    """What ``GET /v1/me`` returns after login: the student's own record."""
    return {
        "id": student.provider_id,
        "role": "student",
        "name": {"first": student.first_name, "last": student.last_name},
        "email": student.email,
        "username": student.username,
        "dob": student.birth_date,
        "sis_id": student.student_id,
        "state_id": student.state_id,
        "grade": student.grade,
        "school": {"id": "sch-0317", "name": student.school},
        "iep_status": "Y",
        "ell_status": "N",
    }


def roster(student: DemoStudent) -> dict[str, Any]:
    return {
        "class": {"id": CLASS_ID, "name": CLASS_NAME, "teacher": TEACHER},
        "students": [
            *CLASSMATES,
            {"id": student.provider_id, "name": student.full_name},
        ],
    }


def assignments() -> dict[str, Any]:
    return {
        "assignments": [
            {
                "id": ASSIGNMENT_ID,
                "class_id": CLASS_ID,
                "title": "Photosynthesis essay",
                "prompt": ESSAY_PROMPT,
                "due": "2026-03-20",
            },
            {"id": QUIZ_ID, "class_id": CLASS_ID, "title": "Cells quiz 1", "due": "2026-03-18"},
        ]
    }


def messages() -> dict[str, Any]:
    return {
        "messages": [
            {
                "id": "msg-118",
                "from": TEACHER,
                "body": "Reminder: the photosynthesis essay is due Friday. Watch the video first!",
            }
        ]
    }


QUIZ = {
    "id": QUIZ_ID,
    "questions": [
        {"id": "q1", "text": "Which organelle holds chlorophyll?", "choices": ["A", "B", "C"]},
        {"id": "q2", "text": "What gas do plants release?", "choices": ["A", "B", "C"]},
        {"id": "q3", "text": "What does a cell membrane do?", "choices": ["A", "B", "C"]},
    ],
}
QUIZ_ANSWERS = {"q1": "B", "q2": "A", "q3": "C"}
QUIZ_KEY = {"q1": "B", "q2": "A", "q3": "A"}
