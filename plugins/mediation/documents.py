"""The 调解协议书 and the 权利义务告知书 as PDF, with core's embedded Chinese font.

The agreement carries what the 2002 rules (Art. 35) and the statute (Art. 29) require: the
parties' details, the facts and points in dispute, what was agreed, how, where and by when
it is performed, and the places for every signature and the committee's seal. Identity
numbers, phones and addresses are printed in clear only for a caller allowed to reveal them;
otherwise masked. The notice tells a party the nature, principles and effect of mediation and
their rights and duties (2002 rules Art. 30), and that it is free (人民调解法 Art. 4).
"""

from dataclasses import dataclass
from datetime import date

from fpdf import FPDF

from core.certificates.render import chinese_date, font_file
from core.security.masking import mask
from plugins.mediation.models import Agreement, AgreementTerm, Dispute, Party
from plugins.mediation.vocab import PARTY_ROLE_LABELS, AgreementForm, PartyRole

MARGIN = 20
LINE = 7


@dataclass(frozen=True)
class Letterhead:
    """Who issues the document, and the confirmation window in force for it."""

    committee: str
    unit: str
    printed_on: date
    confirmation_window_days: int


def _pdf(title: str) -> FPDF:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(title)
    pdf.set_creator("Pingan")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, MARGIN)
    pdf.add_font("doc", fname=str(font_file()))
    pdf.add_page()
    pdf.set_font("doc", size=20)
    pdf.cell(0, 14, title, align="C", new_x="LMARGIN", new_y="NEXT")
    return pdf


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(2)
    pdf.set_font("doc", size=13)
    pdf.cell(0, LINE + 1, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("doc", size=11)


def _paragraph(pdf: FPDF, text: str) -> None:
    pdf.set_font("doc", size=11)
    pdf.multi_cell(0, LINE, text, new_x="LMARGIN", new_y="NEXT")


def _identity(party: Party, clear: bool) -> str:
    shown = (lambda kind, value: value) if clear else mask
    parts = [f"{PARTY_ROLE_LABELS[party.role].zh}：{party.name}"]
    if party.gender:
        parts.append("男" if party.gender == "male" else "女")
    if party.ethnicity:
        parts.append(party.ethnicity)
    if party.id_no:
        parts.append(f"身份证号 {shown('id_number', party.id_no)}")
    if party.phone:
        parts.append(f"联系电话 {shown('phone', party.phone)}")
    if party.address:
        parts.append(f"住址 {shown('address', party.address)}")
    return "，".join(parts)


def term_text(term: AgreementTerm, names: dict[int, str]) -> str:
    """One obligation in words: who, for whom, what, how much, how, where, by when."""
    words = [names.get(term.obligor_party_id, "义务人")]
    if term.due_on:
        words.append(f"于{chinese_date(term.due_on)}前")
    if term.place:
        words.append(f"在{term.place}")
    if term.method:
        words.append(f"以{term.method}方式")
    if term.obligee_party_id:
        words.append(f"向{names.get(term.obligee_party_id, '权利人')}")
    text = "".join(words) + term.content
    if term.amount_fen is not None:
        text += f"（金额人民币 {term.amount_fen // 100}.{term.amount_fen % 100:02d} 元）"
    return text


def agreement_pdf(
    head: Letterhead,
    dispute: Dispute,
    agreement: Agreement,
    parties: list[Party],
    terms: list[AgreementTerm],
    *,
    clear: bool,
) -> bytes:
    """The written agreement (or the oral agreement's register entry) as PDF bytes."""
    oral = agreement.form == AgreementForm.oral
    pdf = _pdf("口头调解协议登记表" if oral else "人民调解协议书")
    pdf.set_font("doc", size=11)
    pdf.cell(0, LINE, dispute.case_no, align="R", new_x="LMARGIN", new_y="NEXT")
    _heading(pdf, "当事人")
    for party in parties:
        _paragraph(pdf, _identity(party, clear))
    _heading(pdf, "纠纷主要事实、争议事项及各方当事人责任")
    _paragraph(pdf, agreement.facts)
    _heading(pdf, "经调解，各方当事人自愿达成如下协议")
    _paragraph(pdf, agreement.content)
    if terms:
        _heading(pdf, "履行方式、地点和期限")
        names = {p.id: p.name for p in parties}
        for term in terms:
            _paragraph(pdf, f"{term.position}. {term_text(term, names)}")
    signing = [p for p in parties if p.role != PartyRole.agent]
    if oral:
        _paragraph(
            pdf,
            f"以上为当事人于{chinese_date(agreement.agreed_on)}达成的口头协议，由人民调解员记录。",
        )
    else:
        _paragraph(
            pdf,
            f"本协议一式{len(signing) + 1}份，当事人各执一份，人民调解委员会留存一份。"
            "本协议自各方当事人签名、盖章或者按指印，人民调解员签名并加盖人民调解委员会"
            "印章之日起生效。",
        )
        _paragraph(
            pdf,
            "经人民调解委员会调解达成的调解协议，具有法律约束力，当事人应当按照约定履行。"
            f"当事人可以自调解协议生效之日起{head.confirmation_window_days}日内共同向人民法院"
            "申请司法确认。",
        )
    pdf.ln(4)
    for party in signing:
        pdf.cell(
            0,
            LINE + 3,
            f"{PARTY_ROLE_LABELS[party.role].zh}（签名、盖章或按指印）：",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.cell(0, LINE + 3, "人民调解员（签名）：", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, LINE + 3, f"{head.committee}（印章）", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, LINE + 3, chinese_date(agreement.agreed_on), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


RIGHTS = (
    "（一）选择或者接受人民调解员；",
    "（二）接受调解、拒绝调解或者要求终止调解；",
    "（三）要求调解公开进行或者不公开进行；",
    "（四）自主表达意愿、自愿达成调解协议。",
)
DUTIES = (
    "（一）如实陈述纠纷事实；",
    "（二）遵守调解现场秩序，尊重人民调解员；",
    "（三）尊重对方当事人行使权利。",
)
NOT_ACCEPTED = (
    "法律、法规规定只能由专门机关管辖处理的，或者法律、法规禁止采用民间调解方式解决的纠纷；"
    "人民法院、公安机关或者其他行政机关已经受理或者解决的纠纷，人民调解委员会不予受理。"
)


def rights_notice_pdf(head: Letterhead, dispute: Dispute, party: Party) -> bytes:
    """The rights-and-duties notice for one party, to be signed on receipt."""
    pdf = _pdf("人民调解权利义务告知书")
    pdf.set_font("doc", size=11)
    pdf.cell(0, LINE, dispute.case_no, align="R", new_x="LMARGIN", new_y="NEXT")
    _paragraph(pdf, f"{party.name}：")
    _paragraph(
        pdf,
        f"{head.committee}依法设立，是调解民间纠纷的群众性组织。人民调解遵循当事人自愿、"
        "平等的原则，不违背法律、法规和国家政策，尊重当事人的权利，不因调解而阻止当事人"
        "依法通过仲裁、行政、司法等途径维护自己的权利。人民调解不收取任何费用。",
    )
    _heading(pdf, "在人民调解活动中，您享有下列权利")
    for line in RIGHTS:
        _paragraph(pdf, line)
    _heading(pdf, "在人民调解活动中，您应当履行下列义务")
    for line in DUTIES:
        _paragraph(pdf, line)
    _heading(pdf, "调解协议的效力")
    _paragraph(
        pdf,
        "经人民调解委员会调解达成的调解协议，具有法律约束力，当事人应当按照约定履行。"
        f"双方当事人可以自调解协议生效之日起{head.confirmation_window_days}日内共同向人民法院"
        "申请司法确认。"
        "调解不成的，您可以依法通过仲裁、行政、司法等途径解决纠纷。",
    )
    _heading(pdf, "不予受理的情形")
    _paragraph(pdf, NOT_ACCEPTED)
    pdf.ln(6)
    pdf.cell(0, LINE + 3, "当事人签收：", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, LINE + 3, f"{head.committee}（印章）", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, LINE + 3, chinese_date(head.printed_on), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
