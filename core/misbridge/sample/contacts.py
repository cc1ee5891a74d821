"""The sample school's people: names, UPNs and contact details, made deterministically."""

from __future__ import annotations

import random
from datetime import date

from misbridge.sample import names
from misbridge.source import (
    SourceAddress,
    SourceEmail,
    SourceTelephone,
)
from misbridge.validate.upn import CHECK_ALPHABET, upn_check_letter

__all__ = ["ContactMaker"]


class ContactMaker:
    """Names, UPNs, addresses, telephones and emails from one random generator."""

    rng: random.Random
    used_emails: set[str]
    serials: dict[int, int]

    def name(self, female: bool) -> tuple[str, str]:
        pool = names.FORENAMES_F if female else names.FORENAMES_M
        return self.rng.choice(pool), self.rng.choice(names.SURNAMES)

    def upn(self, allocated: int, temporary: bool = False) -> str:
        """A UPN allocated in ``allocated`` (the year the pupil first started school):
        its two year digits and a serial counted per allocation year, as LAs do."""
        serial = self.serials[allocated] = self.serials.get(allocated, 0) + 1
        la = self.rng.choice(names.LA_CODES)
        # The establishment digits are the (primary) school that allocated the UPN; each
        # feeder school numbers its own pupils, so a large cohort spans several of them.
        feeder = 2001 + serial // 1000
        body = f"{la}{feeder:04d}{allocated % 100:02d}{serial % 1000:03d}"
        if temporary:
            body = body[:-1] + self.rng.choice(CHECK_ALPHABET)
        return upn_check_letter(body) + body

    def address(self, start: date | None, kind: str = "H") -> SourceAddress:
        number = self.rng.randint(1, 180)
        area = self.rng.choice(names.POSTCODE_AREAS)
        postcode = (
            f"{area} {self.rng.randint(1, 9)}"
            f"{self.rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{self.rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
        )
        lines = (
            f"{number} {self.rng.choice(names.STREETS)}",
            self.rng.choice(names.LOCALITIES),
            names.TOWN,
        )
        return SourceAddress(type=kind, lines=lines, postcode=postcode, start=start)

    def phone(self, kind: str, primary: bool = False, main: bool = False) -> SourceTelephone:
        if kind == "M":
            number = f"07700 900{self.rng.randint(0, 999):03d}"
        else:
            number = f"01632 960{self.rng.randint(0, 999):03d}"
        return SourceTelephone(type=kind, number=number, primary=primary, main=main)

    def email(
        self, local: str, kind: str, primary: bool = False, main: bool = False
    ) -> SourceEmail:
        domain = names.STAFF_DOMAIN if kind == "W" else self.rng.choice(names.PARENT_DOMAINS)
        base = "".join(c for c in local.lower() if c.isascii() and (c.isalnum() or c == "."))
        address = f"{base}@{domain}"
        n = 1
        while address in self.used_emails:
            n += 1
            address = f"{base}{n}@{domain}"
        self.used_emails.add(address)
        return SourceEmail(type=kind, address=address, primary=primary, main=main)
