"""Core's task types (SPEC §4) and the check of a task's own fields against its type.

Plugins add their types through ``register_task_types``; every type, core's or a plugin's,
declares its fields (:class:`~core.contributions.TaskField`) and its requirements, and a task
is saved only with its type's fields valid.
"""

from datetime import date
from typing import Any

from core.contributions import Label, TaskField, TaskType
from core.errors import FieldError
from core.i18n import text

#: The training module an emergency-rescue task requires (registered by core's training).
RESCUE_MODULE = "core.emergency_rescue"

_NOTES = TaskField("notes", Label("注意事项", "Notes"), kind="textarea", max_length=1000)

CORE_TASK_TYPES = [
    TaskType(
        "core.patrol",
        Label("巡逻", "Patrol"),
        fields=(
            TaskField("route", Label("巡逻路线", "Route"), kind="textarea", required=True),
            TaskField(
                "mode",
                Label("巡逻方式", "Mode"),
                kind="choice",
                required=True,
                choices=(
                    ("foot", Label("步巡", "On foot")),
                    ("bicycle", Label("骑行", "By bicycle")),
                    ("vehicle", Label("车巡", "By vehicle")),
                ),
            ),
            _NOTES,
        ),
        skills=("security",),
    ),
    TaskType(
        "core.guarding",
        Label("守楼护院", "Guarding buildings"),
        fields=(
            TaskField("premises", Label("楼栋或院落", "Buildings or courtyard"), required=True),
            TaskField("households", Label("住户数", "Households"), kind="integer", maximum=100_000),
            _NOTES,
        ),
        skills=("security",),
    ),
    TaskType(
        "core.legal_publicity",
        Label("法制宣传", "Legal publicity"),
        fields=(
            TaskField("topic", Label("宣传主题", "Topic"), required=True),
            TaskField("audience", Label("宣传对象", "Audience")),
            TaskField(
                "materials",
                Label("发放资料（份）", "Leaflets handed out"),
                kind="integer",
                maximum=1_000_000,
            ),
        ),
        skills=("law", "publicity"),
    ),
    TaskType(
        "core.dispute_screening",
        Label("矛盾纠纷排查", "Dispute screening"),
        fields=(
            TaskField("area", Label("排查范围", "Area screened"), required=True),
            TaskField(
                "focus",
                Label("重点类型", "Focus"),
                kind="choice",
                choices=(
                    ("neighbours", Label("邻里纠纷", "Between neighbours")),
                    ("family", Label("婚姻家庭", "Marriage and family")),
                    ("land", Label("土地山林", "Land and forest")),
                    ("labour", Label("劳动争议", "Labour")),
                    ("property", Label("物业管理", "Property management")),
                    ("other", Label("其他", "Other")),
                ),
            ),
        ),
        skills=("mediation", "law", "dialect"),
    ),
    TaskType(
        "core.information_collection",
        Label("社情民意", "Information collection"),
        fields=(
            TaskField("topic", Label("收集主题", "Topic"), required=True),
            TaskField(
                "method",
                Label("收集方式", "Method"),
                kind="choice",
                choices=(
                    ("visit", Label("走访", "Home visits")),
                    ("survey", Label("问卷", "Survey")),
                    ("forum", Label("座谈", "Group discussion")),
                ),
            ),
        ),
        skills=("dialect", "it"),
    ),
    TaskType(
        "core.emergency_rescue",
        Label("应急救援", "Emergency rescue"),
        risky=True,
        required_modules=(RESCUE_MODULE,),
        fields=(
            TaskField(
                "incident",
                Label("事件类型", "Incident"),
                kind="choice",
                required=True,
                choices=(
                    ("flood", Label("洪涝", "Flood")),
                    ("landslide", Label("山体滑坡", "Landslide")),
                    ("fire", Label("火灾", "Fire")),
                    ("earthquake", Label("地震", "Earthquake")),
                    ("other", Label("其他", "Other")),
                ),
            ),
            TaskField("assembly_point", Label("集结地点", "Assembly point"), required=True),
            TaskField("equipment", Label("装备要求", "Equipment"), kind="textarea"),
        ),
        skills=("rescue", "first_aid", "medical", "driving"),
    ),
    TaskType(
        "core.key_person",
        Label("重点人员", "Key-person work"),
        fields=(
            TaskField(
                "purpose",
                Label("工作内容", "Purpose"),
                kind="choice",
                required=True,
                choices=(
                    ("visit", Label("走访关怀", "Visits and care")),
                    ("assistance", Label("帮扶", "Assistance")),
                    ("information", Label("信息核查", "Checking information")),
                ),
            ),
            # The people themselves are recorded by the department's plugin, never here.
            TaskField("reference", Label("工作单编号", "Work-order reference"), max_length=64),
        ),
        skills=("psychology", "mediation"),
    ),
]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_value(field: TaskField, value: Any) -> tuple[Any, str | None, str | None]:
    """The stored form of one field's value, or the rule it breaks and why."""
    if field.kind in ("text", "textarea"):
        if not isinstance(value, str):
            return None, "string_type", text("应为文本", "must be text")
        value = value.strip()
        if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
            return None, "control_characters", text("含有控制字符", "contains control characters")
        if len(value) > field.max_length:
            return (
                None,
                "string_too_long",
                text(f"最多 {field.max_length} 个字符", f"at most {field.max_length} characters"),
            )
        return value, None, None
    if field.kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int | str):
            return None, "int_type", text("应为整数", "must be an integer")
        try:
            number = int(str(value).strip())
        except ValueError:
            return None, "int_parsing", text("应为整数", "must be an integer")
        if field.minimum is not None and number < field.minimum:
            return (
                None,
                "greater_than_equal",
                text(f"应不小于 {field.minimum}", f"at least {field.minimum}"),
            )
        if field.maximum is not None and number > field.maximum:
            return (
                None,
                "less_than_equal",
                text(f"应不大于 {field.maximum}", f"at most {field.maximum}"),
            )
        return number, None, None
    if field.kind == "date":
        try:
            return date.fromisoformat(str(value).strip()).isoformat(), None, None
        except ValueError:
            return None, "date_parsing", text("日期格式不正确", "must be an ISO 8601 date")
    if field.kind == "choice":
        allowed = [code for code, _ in field.choices]
        if value not in allowed:
            return (
                None,
                "enum",
                text("应为以下之一：", "must be one of: ") + ", ".join(allowed),
            )
        return value, None, None
    # boolean: a form sends "1"/"on", JSON a bool
    if isinstance(value, bool):
        return value, None, None
    if value in ("1", "on", "true"):
        return True, None, None
    if value in ("0", "off", "false"):
        return False, None, None
    return None, "bool_type", text("应为是或否", "must be true or false")


def check_details(
    task_type: TaskType, raw: dict[str, Any]
) -> tuple[dict[str, Any], list[FieldError]]:
    """Check a task's own fields against its type; return the values to store or the errors.

    Each error names ``details.<field>`` and the rule broken; a key the type does not declare
    is refused (``extra_forbidden``), so nothing unchecked is stored.
    """
    cleaned: dict[str, Any] = {}
    errors: list[FieldError] = []
    declared = {field.name for field in task_type.fields}
    for key in sorted(set(raw) - declared):
        errors.append(
            FieldError(f"details.{key}", "extra_forbidden", text("不允许此字段", "is not allowed"))
        )
    for field in task_type.fields:
        value = raw.get(field.name)
        if field.kind == "boolean":
            value = False if _blank(value) else value
        elif _blank(value):
            if field.required:
                errors.append(
                    FieldError(f"details.{field.name}", "missing", text("必填", "is required"))
                )
            continue
        stored, rule, message = check_value(field, value)
        if rule is None and field.required and stored is False:
            rule, message = "missing", text("须勾选", "must be ticked")
        if rule:
            errors.append(FieldError(f"details.{field.name}", rule, message))
        else:
            cleaned[field.name] = stored
    return cleaned, errors
