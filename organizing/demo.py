"""Demo data for `make run`: one campaign, one open petition (written in English, translated
into Spanish and Arabic), an organizer and a moderator."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.db import transaction

from petition.codes import code_batch_create
from petition.keys import code_fragment
from petition.models import Level, Petition
from petition.services import petition_create, petition_publish, petition_translation_create

from .models import Campaign, Membership, MilestonePlan, Role, User

CAMPAIGN_SLUG = "acme-workers"
PETITION_SLUG = "stop-the-extraction-factory"
DEMANDS = """\
We, employees of Acme Corp, ask management to:

1. **Switch off the input-tracking software** that records our keystrokes, clicks and mouse
   movements on company laptops, and stop using those recordings to train AI agents.
2. **Delete every recording** collected so far, and show an independent auditor that it is gone.
3. **Consult employees first**: no new monitoring tool without written notice, a privacy
   impact assessment shared with staff, and a real way to opt out.
4. **No retaliation**: nobody is disciplined, ranked lower or laid off for signing or for
   refusing to train the software that may replace them.

We work here. We want to keep doing good work here, without being turned into training data.
"""

# The demo petition in the site's other languages, as coworkers would write it (not word
# for word): the public page shows the visitor's language whole (petition_text).
TRANSLATIONS = {
    "es": {
        "title": "Alto a la fábrica de extracción de datos del personal",
        "summary": "Que se apague el programa que graba lo que tecleamos y cada clic para "
        "entrenar agentes de IA.",
        "demands": """\
Quienes trabajamos en Acme Corp pedimos a la dirección que:

1. **Apague el programa de seguimiento** que registra lo que tecleamos, nuestros clics y los
   movimientos del ratón en los portátiles de la empresa, y deje de usar esas grabaciones
   para entrenar agentes de IA.
2. **Borre todas las grabaciones** reunidas hasta ahora y demuestre ante una auditoría
   independiente que ya no existen.
3. **Consulte primero al personal**: ninguna herramienta de vigilancia nueva sin aviso por
   escrito, una evaluación de impacto en la privacidad compartida con la plantilla y una
   forma real de decir que no.
4. **Sin represalias**: que a nadie se le sancione, se le baje la evaluación ni se le
   despida por firmar o por negarse a entrenar el programa que podría reemplazarnos.

Trabajamos aquí. Queremos seguir haciendo bien nuestro trabajo aquí, sin que nos conviertan
en datos de entrenamiento.
""",
        "addressed_to": "El equipo directivo de Acme Corp",
    },
    "ar": {
        "title": "أوقفوا مصنع استخراج بيانات الموظفين",
        "summary": "أطفئوا البرنامج الذي يسجّل ما نكتبه وكل نقرة منّا ليدرّب به وكلاء الذكاء "
        "الاصطناعي.",
        "demands": """\
بصفتنا موظفين في Acme Corp، نطالب الإدارة بما يلي:

1. **إيقاف برنامج التتبّع** الذي يسجّل ما نكتبه على لوحة المفاتيح ونقراتنا وحركات الفأرة
   على الحواسيب المحمولة للشركة، والكفّ عن استخدام هذه التسجيلات لتدريب وكلاء الذكاء
   الاصطناعي.
2. **حذف كل التسجيلات** التي جُمعت حتى الآن، وإثبات ذلك أمام مدقّق مستقل.
3. **استشارة الموظفين أولًا**: لا أداة مراقبة جديدة دون إشعار مكتوب، ولا دون تقييم لأثرها
   على الخصوصية يطّلع عليه الموظفون، ومع طريقة حقيقية للرفض.
4. **لا انتقام**: لا يُعاقَب أحد ولا يُخفَض تقييمه ولا يُفصَل لأنه وقّع، أو لأنه رفض تدريب
   البرنامج الذي قد يحلّ محلّه.

نحن نعمل هنا، ونريد أن نواصل إتقان عملنا هنا، دون أن نتحوّل إلى بيانات تدريب.
""",
        "addressed_to": "الفريق التنفيذي في Acme Corp",
    },
}


DEMO_EMAILS = {"organizer@acme.example": Role.ORGANIZER, "moderator@acme.example": Role.MODERATOR}


@dataclass
class DemoAccount:
    email: str
    role: str
    password: str | None = None
    totp_secret: str | None = None
    totp_url: str | None = None
    recovery_codes: list[str] = field(default_factory=list)

    @property
    def created(self) -> bool:
        return self.password is not None


def _ensure_staff(email: str, role: str, campaign: Campaign) -> DemoAccount:
    account = DemoAccount(email=email, role=role)
    user = User.objects.filter(email=email).first()
    if user is None:
        account.password = secrets.token_urlsafe(12)
        user = User.objects.create_user(email=email, password=account.password)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        account.totp_secret = generate_totp_secret()
        TOTP.activate(user, account.totp_secret)
        account.totp_url = get_mfa_adapter().build_totp_url(user, account.totp_secret)
        account.recovery_codes = RecoveryCodes.activate(user).generate_codes()
    if role == Role.ORGANIZER and not user.is_site_organizer:
        # The demo organizer may create campaigns, as the first organizer of a real
        # installation does (`manage.py invite --site-organizer`).
        User.objects.filter(pk=user.pk).update(is_site_organizer=True)
    Membership.objects.get_or_create(user=user, campaign=campaign, defaults={"role": role})
    return account


@transaction.atomic
def seed_demo(*, reset_accounts: bool = False) -> tuple[Petition, list[DemoAccount]]:
    if reset_accounts:
        User.objects.filter(email__in=DEMO_EMAILS).delete()
    campaign, _ = Campaign.objects.get_or_create(
        slug=CAMPAIGN_SLUG,
        defaults={
            "name": "Acme Workers for Privacy",
            "employer_name": "Acme Corp",
            "description": "Coworkers at Acme Corp organizing against keystroke and mouse "
            "tracking on our laptops.",
            "email_domains": ["acme.example"],
            # TEST-NET-3 (RFC 5737): documentation range standing in for the office network.
            "employer_networks": ["203.0.113.0/24"],
        },
    )
    accounts = [_ensure_staff(email, role, campaign) for email, role in DEMO_EMAILS.items()]
    petition = Petition.objects.filter(slug=PETITION_SLUG).first()
    if petition is None:
        petition = petition_create(
            campaign=campaign,
            slug=PETITION_SLUG,
            title="Stop the Employee Data Extraction Factory",
            summary="Switch off the software that records our keystrokes and clicks to train "
            "AI agents.",
            demands=DEMANDS,
            addressed_to="The Acme Corp executive team",
            goal=500,
            accepts_work_email=True,
            accepts_in_person=True,
            accepts_flyer=True,
        )
    # Before publishing when the petition is new; an older demo database gets the missing
    # ones (adding a language is allowed while a petition is open).
    existing = set(petition.translations.values_list("language", flat=True))
    for language, text in TRANSLATIONS.items():
        if language not in existing and language != petition.language:
            petition_translation_create(petition=petition, language=language, **text)
    if petition.status == Petition.Status.DRAFT:
        petition = petition_publish(petition=petition)
    # A newcomer's first signature crosses a threshold: the milestone mail appears in the
    # console of `make run` (after 10, 25, … as usual).
    MilestonePlan.objects.get_or_create(petition=petition, defaults={"extra_thresholds": [1, 5]})
    return petition, accounts


def demo_codes(petition: Petition, count: int = 10) -> list[tuple[str, str]]:
    """A few in-person codes with their link fragments (`#code=…&level=…&k=…`), so a
    newcomer can sign within a minute of `make run`."""
    _batch, codes = code_batch_create(
        petition=petition, level=Level.IN_PERSON, size=count, label="demo"
    )
    key = petition.keys.get(level=Level.IN_PERSON)
    return [(code, code_fragment(key, code)) for code in codes]
