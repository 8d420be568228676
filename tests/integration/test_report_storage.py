"""The funnel report read through the SQL unit of work (reminder counts from delivery keys)."""

from __future__ import annotations

from sqlalchemy import Engine

from core.report import read_report
from storage.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from tests.support.population import Population
from tests.unit.test_report import assert_expected


async def test_report_on_a_database_matches_the_fakes(db: Engine) -> None:
    population = Population(uow=SqlUnitOfWorkFactory(db))
    await population.run()
    with SqlUnitOfWork(db) as uow:
        report = read_report(population.world.engine.s.script("qa"), uow)
        assert uow.reviews.reminders_sent(population.ids[17]) == 2
        assert uow.reviews.reminders_sent(population.ids[12]) == 0  # its expiry is no reminder
        assert uow.reviews.reminders_sent(population.ids[1]) == 0  # nor a reviewer digest
    assert_expected(report)
