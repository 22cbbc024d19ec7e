"""Hook implementations: one of each."""

import click
from sqlmodel import func, select

from core.contributions import (
    Action,
    Figure,
    Label,
    MenuItem,
    Quiz,
    QuizQuestion,
    Refusal,
    ReportCategory,
    Role,
    Schedule,
    SensitiveField,
    TaskField,
    TaskType,
    TrainingModule,
)
from core.hookspecs import hookimpl
from pingan_sample import META
from pingan_sample.config import BOARD_LIMIT
from pingan_sample.jobs import count_notes, heartbeat
from pingan_sample.models import SampleNote, SampleTally
from pingan_sample.routes import NoteController, NotePages

__all__ = ["META"]


@hookimpl
def register_models():
    return [SampleNote, SampleTally]


@hookimpl
def register_api_routes():
    return [NoteController]


@hookimpl
def register_page_routes():
    return [NotePages]


@hookimpl
def register_permissions():
    return [
        Action("sample.note.read", Label("查看便签", "Read notes")),
        Action("sample.note.create", Label("张贴便签", "Pin notes")),
        Action(
            "sample.note.reveal", Label("查看便签联系方式", "See note contacts"), sensitive=True
        ),
    ]


@hookimpl
def register_roles():
    return [
        Role(
            "sample.editor",
            Label("便签编辑", "Notice editor"),
            ("core.unit.read", "sample.note.read", "sample.note.create"),
        ),
        Role(
            "sample.reader",
            Label("便签读者", "Notice reader"),
            ("core.unit.read", "sample.note.read"),
        ),
    ]


@hookimpl
def register_sensitive_fields():
    return [SensitiveField("sample_note", "contact", "phone", "sample.note.reveal")]


@hookimpl
def register_task_types():
    return [
        TaskType(
            "sample.litter_pick",
            Label("捡拾垃圾", "Litter picking"),
            fields=(
                TaskField("bags", Label("垃圾袋（只）", "Bags"), kind="integer", required=True),
                TaskField("area", Label("清理范围", "Area"), max_length=100),
            ),
            skills=("publicity",),
        )
    ]


ETIQUETTE_QUIZ = Quiz(
    questions=(
        QuizQuestion(
            "便签里可以写邻居的电话号码吗？",
            ("可以，方便联系", "不可以，除非本人同意"),
            (1,),
        ),
        QuizQuestion(
            "发现一张便签内容不实，应当怎么做？",
            ("置之不理", "告知便签编辑核实并撤下", "自己改写内容"),
            (1,),
        ),
        QuizQuestion(
            "哪些内容适合张贴？（多选）",
            ("停水停电通知", "失物招领", "他人的家庭住址"),
            (0, 1),
        ),
    ),
    pass_mark=2,
)


@hookimpl
def register_training_modules():
    return [
        TrainingModule(
            "sample.notice_etiquette",
            Label("便签礼仪", "Notice etiquette"),
            "etiquette.md",
            hours=0.5,
            required_roles=("sample.editor",),
            summary=Label(
                "张贴前确认内容真实、不含他人个人信息。",
                "Pin true notes only, and no one's personal data.",
            ),
            quiz=ETIQUETTE_QUIZ,
            valid_days=365,
            departments=("comprehensive",),
        )
    ]


@hookimpl
def register_report_categories():
    return [ReportCategory("sample.litter", Label("乱扔垃圾", "Litter"))]


@hookimpl
def register_config_keys():
    return [BOARD_LIMIT]


@hookimpl
def register_jobs():
    return [count_notes, heartbeat]


@hookimpl
def register_schedules():
    return [Schedule(job="sample.heartbeat", every_seconds=3600)]


@hookimpl
def register_commands(cli):
    @cli.command("sample-hello")
    @click.option("--name", default="邻居")
    def hello(name):
        """Greet from the sample plugin."""
        click.echo(f"你好，{name}！")


@hookimpl
def menu_items(unit, actor):
    return [
        MenuItem(
            Label("邻里便签", "Notes"),
            f"/units/{unit.id}/sample/",
            icon="note",
            required_action="sample.note.read",
            order=50,
        )
    ]


@hookimpl
def dashboard_figures(unit, actor, session):
    notes = session.exec(select(func.count()).where(SampleNote.unit_id == unit.id)).one()
    return [Figure(Label("便签", "Notes"), notes, url=f"/units/{unit.id}/sample/")]


@hookimpl
def check_assignment(check, session):
    """A note ``refuse:<person id>`` pinned at the shift's unit refuses that person there;
    ``warn:<person id>`` only warns."""
    pinned = set(
        session.exec(
            select(SampleNote.text).where(
                SampleNote.unit_id == check.unit_id,
                SampleNote.text.in_([f"refuse:{check.person_id}", f"warn:{check.person_id}"]),
            )
        )
    )
    found = []
    if f"refuse:{check.person_id}" in pinned:
        found.append(
            Refusal("sample.marked", Label("便签上注明不宜安排", "A note says not to assign"))
        )
    if f"warn:{check.person_id}" in pinned:
        found.append(
            Refusal(
                "sample.reminder",
                Label("便签上有提醒事项", "A note asks to check first"),
                blocking=False,
            )
        )
    return found


@hookimpl
def handle_event(event, session):
    session.add(SampleNote(unit_id=event.unit_id, text=f"event {event.name}"))


@hookimpl
def on_plugin_enabled(unit, session):
    session.add(SampleNote(unit_id=unit.id, text="board opened"))


@hookimpl
def on_plugin_disabled(unit, session):
    session.add(SampleNote(unit_id=unit.id, text="board closed"))


@hookimpl
def export_volunteers(format, volunteers):
    """A plain tab-separated text of the export, as ``format="tsv"``; other formats: core's."""
    if format != "tsv":
        return None
    return "\n".join("\t".join(str(cell or "") for cell in row) for row in volunteers).encode()
