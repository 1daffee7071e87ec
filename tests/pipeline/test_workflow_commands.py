from __future__ import annotations

from jmo_schedule.pipeline.workflow_commands import command, escape_data, escape_property


def test_message_escaping_follows_the_runner() -> None:
    assert escape_data("100% a\r\nb") == "100%25 a%0D%0Ab"
    assert escape_property("dir/a:b,c%\n") == "dir/a%3Ab%2Cc%25%0A"


def test_command_with_properties_in_the_order_given() -> None:
    line = command("error", "line 1\n::warning::forged", file="a:b,c.yml", title="jmo-schedule sync")
    assert line == "::error file=a%3Ab%2Cc.yml,title=jmo-schedule sync::line 1%0A::warning::forged"
    assert "\n" not in line


def test_command_without_properties() -> None:
    assert command("add-mask", "https://hooks.example/T0/%41") == "::add-mask::https://hooks.example/T0/%2541"
