"""Moderation decides the name and the comment separately, with a preset reason (review
M5); a delivery records its day and a note (review O22). Rows from before: a hidden entry
hid both parts for a reason typed in words ("other"); a delivered petition was delivered on
the day it was marked."""

from django.db import migrations, models
from django.utils import timezone


def forwards(apps, schema_editor):
    Signature = apps.get_model("petition", "Signature")
    Petition = apps.get_model("petition", "Petition")
    Signature.objects.filter(review="hidden").update(hidden_part="both", hide_reason="other")
    for petition in Petition.objects.filter(status="delivered").only("delivered_at"):
        Petition.objects.filter(pk=petition.pk).update(
            delivered_on=timezone.localdate(petition.delivered_at)
        )


def backwards(apps, schema_editor):
    # The old rule wants words for every hidden entry: a preset reason becomes its value.
    Signature = apps.get_model("petition", "Signature")
    for reason in ("identifies", "offensive", "off_topic", "spam"):
        Signature.objects.filter(review="hidden", hide_reason=reason).update(hidden_reason=reason)


class Migration(migrations.Migration):
    dependencies = [
        ("organizing", "0013_membership_confirmation"),
        ("petition", "0023_tlog_backfill"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="signature",
            name="petition_signature_hidden_with_reason",
        ),
        migrations.AddField(
            model_name="petition",
            name="delivered_on",
            field=models.DateField(blank=True, null=True, verbose_name="delivered on"),
        ),
        migrations.AddField(
            model_name="petition",
            name="delivery_note",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                max_length=300,
                verbose_name="note about the delivery",
            ),
        ),
        migrations.AddField(
            model_name="signature",
            name="hidden_part",
            field=models.CharField(
                blank=True,
                choices=[
                    ("name", "The name only"),
                    ("comment", "The comment only"),
                    ("both", "The name and the comment"),
                ],
                db_default="",
                default="",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="signature",
            name="hide_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("identifies", "Could identify the signer or someone else"),
                    ("offensive", "Offensive or insulting"),
                    ("off_topic", "Does not belong to this petition"),
                    ("spam", "Spam or advertising"),
                    ("other", "Other (say why)"),
                ],
                db_default="",
                default="",
                max_length=16,
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.AddConstraint(
            model_name="petition",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("delivered_on__isnull", False), ("status", "delivered")),
                    models.Q(
                        models.Q(("status", "delivered"), _negated=True),
                        ("delivered_on__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="petition_petition_delivered_on_matches_status",
            ),
        ),
        migrations.AddConstraint(
            model_name="petition",
            constraint=models.CheckConstraint(
                condition=models.Q(("status", "delivered"), ("delivery_note", ""), _connector="OR"),
                name="petition_petition_delivery_note_only_delivered",
            ),
        ),
        migrations.AddConstraint(
            model_name="signature",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("review", "hidden"),
                        ("hidden_part__in", ["name", "comment", "both"]),
                        (
                            "hide_reason__in",
                            ["identifies", "offensive", "off_topic", "spam", "other"],
                        ),
                    ),
                    models.Q(
                        models.Q(("review", "hidden"), _negated=True),
                        ("hidden_part", ""),
                        ("hidden_reason", ""),
                        ("hide_reason", ""),
                    ),
                    _connector="OR",
                ),
                name="petition_signature_hidden_with_reason",
            ),
        ),
        migrations.AddConstraint(
            model_name="signature",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("hide_reason", "other"), models.Q(("hidden_reason", ""), _negated=True)
                    ),
                    models.Q(
                        models.Q(("hide_reason", "other"), _negated=True), ("hidden_reason", "")
                    ),
                    _connector="OR",
                ),
                name="petition_signature_other_reason_in_words",
            ),
        ),
        migrations.AddConstraint(
            model_name="signature",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("hidden_part__in", ["name", "comment"]), _negated=True),
                    models.Q(
                        models.Q(("display_name", ""), _negated=True),
                        models.Q(("comment", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="petition_signature_hidden_part_leaves_text",
            ),
        ),
    ]
