"""The SIMS report definitions misbridge runs, and the permissions each one needs.

CommandReporter can only run reports that a SIMS administrator has imported, so these
definitions are part of the product: ``docs/plugins/sims.md`` lists them (generated
from this module) for the school to import. The plugin, the stand-in and the
permissions pre-flight all read the same definitions, so they cannot drift apart.

A report has one *main* record set (the entity: a student, a group) and optional
*sub* record sets (a student's addresses, a group's members). SIMS answers such a
report with the cross product of its record sets, one ``<Record>`` per combination;
:mod:`misbridge_sims.merge` folds it back into entities.
"""

from __future__ import annotations

from misbridge.plugin import Dataset
from misbridge_sims.reportdef import Column, RecordSet, ReportDef

__all__ = [
    "ALL_PERMISSION_LINES",
    "CONSENT_CAPTION",
    "DATASET_DEPENDS",
    "DATASET_REPORTS",
    "PERMISSION_GROUPS",
    "PERMISSION_LINES",
    "PERSON_PHOTO",
    "PHOTO_CAPTION",
    "REPORTS",
    "THIRD_PARTY_REPORTER",
    "Column",
    "RecordSet",
    "ReportDef",
    "report_by_key",
    "reports_for",
]

THIRD_PARTY_REPORTER = "Third Party Reporter"
SCHOOL_ADMINISTRATOR = "School Administrator"
PERSONNEL_OFFICER = "Personnel Officer"
CURRICULAR_MANAGER = "Curricular Manager"
TIMETABLER = "Timetabler"
EXAMS_OFFICER = "Exams Officer"

#: The six SIMS permission groups the integration overview asks for.
PERMISSION_GROUPS: tuple[str, ...] = (
    THIRD_PARTY_REPORTER,
    SCHOOL_ADMINISTRATOR,
    PERSONNEL_OFFICER,
    CURRICULAR_MANAGER,
    TIMETABLER,
    EXAMS_OFFICER,
)

ADDRESS = "All People -> Address Details -> View (All)"
ADDITIONAL = "Students -> Additional Information -> View (All)"
BASIC = "Students -> Basic Details -> View (All)"
ETHNIC = "Students -> Ethnic/Cultural -> View (All)"
RECORD = "Students -> Record -> View"
REGISTRATION = "Students -> Registration -> View (All)"
WELFARE = "Students -> Welfare -> View (All)"

#: The seven SIMS permission lines the student sync rules ask for.
PERMISSION_LINES: tuple[str, ...] = (
    ADDRESS,
    ADDITIONAL,
    BASIC,
    ETHNIC,
    RECORD,
    REGISTRATION,
    WELFARE,
)

#: The permission line the student sync needs to read profile pictures.
PERSON_PHOTO = "All People -> Person Photo -> View"

#: Every permission line some report needs.
ALL_PERMISSION_LINES: tuple[str, ...] = (*PERMISSION_LINES, PERSON_PHOTO)

#: The photo reports' picture column and their parental consent column.
PHOTO_CAPTION = "Photo"
CONSENT_CAPTION = "Parental Consent"


def _c(
    caption: str, field: str, permission: str | None = None, *, sims: str = "", is_id: bool = False
) -> Column:
    return Column(caption, field, permission, is_id, sims or caption)


def _photo() -> Column:
    # Where the SIMS version offers it; left out, photos come from an exported folder.
    return Column(
        PHOTO_CAPTION, "data", PERSON_PHOTO, sims_field="Photo", optional=True, binary=True
    )


def _members(role: str, permission: str | None = None, *, sims_role: str = "Student") -> RecordSet:
    return RecordSet(
        role,
        (
            _c(
                f"{role} ID", "person_mis_id", permission, sims=f"{sims_role} Person ID", is_id=True
            ),
            _c(f"{role} Start Date", "start", permission, sims=f"{sims_role} membership start"),
            _c(f"{role} End Date", "end", permission, sims=f"{sims_role} membership end"),
        ),
    )


def _emails(permission: str | None) -> RecordSet:
    return RecordSet(
        "Email",
        (
            _c("Email Type", "type", permission, sims="Email Location"),
            _c("Email Address", "address", permission),
            _c("Email Primary", "primary", permission),
            _c("Email Main", "main", permission, sims="Email Main (notifications)"),
        ),
    )


REPORTS: tuple[ReportDef, ...] = (
    ReportDef(
        "academic_years",
        "Academic Years",
        Dataset.YEARS,
        RecordSet(
            "Academic Year",
            (
                _c("ID", "mis_id", sims="Academic Year ID", is_id=True),
                _c("Name", "name", sims="Academic Year Description"),
                _c("Start Date", "start"),
                _c("End Date", "end"),
            ),
        ),
        requires=(THIRD_PARTY_REPORTER, SCHOOL_ADMINISTRATOR),
        data_area="School",
    ),
    ReportDef(
        "year_groups",
        "Year Groups",
        Dataset.YEARS,
        RecordSet(
            "Year Group",
            (
                _c("Base Group ID", "mis_id", is_id=True),
                _c("Name", "name", sims="Year Group Full Name"),
                _c("NC Year", "code", sims="National Curriculum Year"),
                _c("Start Date", "start"),
                _c("End Date", "end"),
            ),
        ),
        requires=(THIRD_PARTY_REPORTER, SCHOOL_ADMINISTRATOR),
        data_area="Year Group",
    ),
    ReportDef(
        "staff",
        "Staff",
        Dataset.STAFF,
        RecordSet(
            "Staff",
            (
                _c("Person ID", "mis_id", is_id=True),
                _c("Title", "title"),
                _c("Forename", "forename", sims="Legal Forename"),
                _c("Surname", "surname", sims="Legal Surname"),
                _c("Gender", "gender"),
                _c("Staff Code", "staff_code"),
            ),
        ),
        (_emails(None),),
        requires=(THIRD_PARTY_REPORTER, PERSONNEL_OFFICER),
        data_area="Staff",
    ),
    ReportDef(
        "students",
        "Students",
        Dataset.STUDENTS,
        RecordSet(
            "Student",
            (
                _c("Person ID", "mis_id", is_id=True),
                _c("Adno", "admission_number", BASIC, sims="Admission Number"),
                _c("UPN", "upn", BASIC),
                _c("Legal Forename", "legal_forename", BASIC),
                _c("Legal Surname", "legal_surname", BASIC),
                _c("Preferred Forename", "preferred_forename", BASIC),
                _c("Preferred Surname", "preferred_surname", BASIC),
                _c("Gender", "gender", BASIC),
                _c("Date of Birth", "date_of_birth", BASIC),
                _c("Ethnicity", "ethnicity", ETHNIC, sims="Ethnicity Code"),
                _c("EAL", "eal", ETHNIC, sims="English as an Additional Language"),
                _c("FSM", "fsm", WELFARE, sims="FSM Eligible"),
                _c("Pupil Premium", "pupil_premium", ADDITIONAL, sims="Pupil Premium Indicator"),
                _c("Service Child", "service_child", ADDITIONAL, sims="Service Child Indicator"),
                _c("Year", "year_group", REGISTRATION, sims="Year Taught In"),
                _c("Admission Date", "admission_date", REGISTRATION),
                _c("Leaving Date", "leaving_date", REGISTRATION),
            ),
        ),
        (
            RecordSet(
                "SEN",
                (
                    _c("SEN Status", "code", WELFARE, sims="SEN Status Code"),
                    _c("SEN Start Date", "start", WELFARE),
                    _c("SEN End Date", "end", WELFARE),
                ),
            ),
            RecordSet(
                "Address",
                (
                    _c("Address Type", "type", ADDRESS, sims="Address Type Code"),
                    _c("Address Block", "lines", ADDRESS, sims="Address Block (one line each)"),
                    _c("Postcode", "postcode", ADDRESS),
                    _c("Address Start Date", "start", ADDRESS),
                ),
            ),
            RecordSet(
                "Telephone",
                (
                    _c("Telephone Type", "type", ADDRESS, sims="Telephone Location"),
                    _c("Telephone Number", "number", ADDRESS),
                    _c("Telephone Primary", "primary", ADDRESS),
                    _c("Telephone Main", "main", ADDRESS),
                ),
            ),
            _emails(ADDRESS),
        ),
        requires=(THIRD_PARTY_REPORTER, SCHOOL_ADMINISTRATOR, *PERMISSION_LINES),
        data_area="Student",
    ),
    ReportDef(
        "classes",
        "Classes",
        Dataset.GROUPS,
        RecordSet(
            "Class",
            (
                _c("Base Group ID", "mis_id", is_id=True),
                _c("Class", "name", sims="Class Name"),
                _c("Subject", "subject", sims="Subject Description"),
            ),
        ),
        (_members("Student", RECORD), _members("Staff", sims_role="Teacher")),
        requires=(THIRD_PARTY_REPORTER, CURRICULAR_MANAGER, TIMETABLER, RECORD),
        data_area="Class",
    ),
    ReportDef(
        "pastoral",
        "Registration Groups and Houses",
        Dataset.GROUPS,
        RecordSet(
            "Group",
            (
                _c("Base Group ID", "mis_id", is_id=True),
                _c("Group Name", "name"),
                _c("Group Type", "kind", sims="Base Group Type"),
                _c("Short Name", "code"),
            ),
        ),
        (_members("Student", REGISTRATION), _members("Staff", sims_role="Supervisor")),
        requires=(THIRD_PARTY_REPORTER, SCHOOL_ADMINISTRATOR, RECORD, REGISTRATION),
        data_area="Base Group",
    ),
    ReportDef(
        "exam_results",
        "Exam Results",
        Dataset.EXAM_RESULTS,
        RecordSet("Student", (_c("Person ID", "student_mis_id", is_id=True),)),
        (
            RecordSet(
                "Result",
                (
                    _c("Series", "series", sims="Exam Series"),
                    _c("Qualification", "qualification"),
                    _c("Subject", "subject", sims="Aspect / Subject"),
                    _c("Grade", "grade", sims="Result"),
                    _c("Result Date", "result_date"),
                ),
            ),
        ),
        requires=(THIRD_PARTY_REPORTER, EXAMS_OFFICER, RECORD),
        data_area="Exams",
    ),
    ReportDef(
        "student_photos",
        "Student Photos",
        Dataset.PHOTOS,
        RecordSet(
            "Student",
            (
                _c("Person ID", "person_mis_id", is_id=True),
                _c("Adno", "admission_number", BASIC, sims="Admission Number"),
                _photo(),
            ),
        ),
        (RecordSet("Consent", (_c(CONSENT_CAPTION, "consent", sims="Parental Consent"),)),),
        requires=(THIRD_PARTY_REPORTER, SCHOOL_ADMINISTRATOR, BASIC, PERSON_PHOTO),
        data_area="Student",
    ),
    ReportDef(
        "staff_photos",
        "Staff Photos",
        Dataset.PHOTOS,
        RecordSet(
            "Staff",
            (
                _c("Person ID", "person_mis_id", is_id=True),
                _c("Staff Code", "staff_code"),
                _photo(),
            ),
        ),
        requires=(THIRD_PARTY_REPORTER, PERSONNEL_OFFICER, PERSON_PHOTO),
        data_area="Staff",
    ),
)

#: Which reports make each dataset, in the order they run.
DATASET_REPORTS: dict[Dataset, tuple[ReportDef, ...]] = {
    dataset: tuple(r for r in REPORTS if r.dataset is dataset)
    for dataset in (
        Dataset.YEARS,
        Dataset.STAFF,
        Dataset.STUDENTS,
        Dataset.GROUPS,
        Dataset.PHOTOS,
        Dataset.EXAM_RESULTS,
    )
}

#: The permission chains: a dataset links to another's records, so the account needs
#: that dataset's permissions too (the student sync's rules: "the permissions often form
#: a chain"). Students sit in year groups; memberships link students and staff; results
#: belong to students; photos belong to students and staff.
DATASET_DEPENDS: dict[Dataset, tuple[Dataset, ...]] = {
    Dataset.YEARS: (),
    Dataset.STAFF: (),
    Dataset.STUDENTS: (Dataset.YEARS,),
    Dataset.GROUPS: (Dataset.STUDENTS, Dataset.STAFF),
    Dataset.PHOTOS: (Dataset.STUDENTS, Dataset.STAFF),
    Dataset.EXAM_RESULTS: (Dataset.STUDENTS,),
}


def reports_for(dataset: Dataset) -> tuple[ReportDef, ...]:
    return DATASET_REPORTS.get(dataset, ())


def report_by_key(key: str) -> ReportDef:
    for report in REPORTS:
        if report.key == key:
            return report
    raise KeyError(key)


def chain(dataset: Dataset) -> tuple[Dataset, ...]:
    """``dataset`` and every dataset it depends on, transitively, dependencies first."""
    seen: list[Dataset] = []

    def visit(d: Dataset) -> None:
        for dep in DATASET_DEPENDS.get(d, ()):
            visit(dep)
        if d not in seen:
            seen.append(d)

    visit(dataset)
    return tuple(seen)
