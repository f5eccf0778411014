"""Writing identity-theft cases: the rows a thief leaves behind, and the ground truth of each case.

A `Typist` decides how the thief wrote each of the victim's identifiers; every deviation from the
victim's own form is recorded as a variation tag, so the truth says exactly what discovery must overcome.
"""

from __future__ import annotations

from ombud.synth.fraud import Case, CasePlan, Thief, Victim
from ombud.synth.people import DAY, AccountRefs, Card, PeopleMaker, Person
from ombud.synth.pools import Rng
from ombud.synth.sink import Sink
from ombud.synth.variants import (
    AddrStyle,
    dob_day_month_swapped,
    dob_transposed,
    name_text,
    phone_text,
    render,
    transpose_digits,
    vary_address,
)

_HARD = ("typo:", "transposed:", "day_month_swap:", "nickname", "initial", "former_")
_NAME_HOWS = ((None, 30), ("nickname", 14), ("middle_initial", 10), ("initial", 8), ("typo:name", 12),
              ("name_order", 8), ("case:name", 8), ("former_name", 8), ("full_middle", 5))
_ADDR_HOWS = ((None, 30), ("street_abbrev", 15), ("apartment_form", 12), ("unit_in_line1", 9), ("zip_plus4", 6),
              ("transposed:zip", 8), ("typo:street", 8), ("case:address", 5), ("former_address", 10))
_FRAUD_NOTES = (
    "Customer asked to expedite shipping on order {order}.",
    "Customer asked to change the delivery address on order {order}; updated after verification.",
    "Customer asked why order {order} was held for review; released after card verification.",
    "Customer called about a missing package for order {order}; reshipped.",
)


class Typist:
    """How the thief typed one case's copy of the victim's identifiers; at most two hard variations."""

    def __init__(self, victim: Person, case: Case, rng: Rng) -> None:
        self.victim = victim
        self.case = case
        self.rng = rng
        self.hard = 0

    def _tag(self, tag: str) -> None:
        if tag.startswith(_HARD):
            self.hard += 1
        if tag not in self.case.variations:
            self.case.variations.append(tag)

    def _use(self, what: str) -> None:
        if what not in self.case.identifiers_used:
            self.case.identifiers_used.append(what)

    def _pick(self, options: tuple[tuple[str | None, int], ...]) -> str | None:
        how = self.rng.choices([o for o, _ in options], [w for _, w in options])[0]
        if how and self.hard >= 2 and how.startswith(_HARD):
            return None
        return how

    def name(self) -> str:
        v, rng = self.victim, self.rng
        self._use("name")
        how = self._pick(_NAME_HOWS)
        if how == "former_name" and v.former_last:
            self._tag("former_name")
            return f"{v.first} {v.former_last}"
        if how == "full_middle" and v.middle:
            return v.legal_name
        text = name_text(v.first, v.middle, v.last, how, rng) if how not in ("former_name", "full_middle") else None
        if text is None or how is None:
            return f"{v.first} {v.last}"
        self._tag(how)
        return text

    def dob(self) -> str:
        self._use("date_of_birth")
        how = self._pick(((None, 70), ("transposed:dob", 17), ("day_month_swap:dob", 13)))
        varied = None
        if how == "transposed:dob":
            varied = dob_transposed(self.victim.dob, self.rng)
        elif how == "day_month_swap:dob":
            varied = dob_day_month_swapped(self.victim.dob)
        if varied is None:
            return self.victim.dob.isoformat()
        self._tag(str(how))
        return varied.isoformat()

    def ssn(self) -> str:
        self._use("ssn")
        ssn = self.victim.ssn
        how = self._pick(((None, 60), ("format:ssn", 30), ("transposed:ssn", 10)))
        if how == "format:ssn":
            self._tag(how)
            return ssn.replace("-", "")
        if how == "transposed:ssn":
            digits = transpose_digits(ssn.replace("-", ""), self.rng, start=1)
            if digits:
                self._tag(how)
                return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"
        return ssn

    def address(self) -> tuple[str, str, str, str, str]:
        v, rng = self.victim, self.rng
        self._use("address")
        how = self._pick(_ADDR_HOWS)
        addr = v.home
        if how == "former_address" and v.former:
            self._tag(how)
            addr = v.former[-1]
            how = None
        varied = vary_address(addr, AddrStyle(), how, rng) if how and how != "former_address" else None
        if varied is None:
            return render(addr, AddrStyle())
        self._tag(str(how))
        return render(*varied)

    def phone(self, thief: Person) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.65:
            return phone_text(thief.phone, rng.below(9))
        self._use("phone")
        if roll < 0.85 or self.hard >= 2:
            self._tag("format:phone")
            return phone_text(self.victim.phone, rng.between(1, 9))
        self._tag("transposed:phone")
        return phone_text(transpose_digits(self.victim.phone, rng, start=3) or self.victim.phone, rng.below(9))

    def email(self, plan: CasePlan) -> str:
        """Mostly the thief's own address; sometimes the victim's written another way (drawn when planning)."""
        if plan.email_variant is None or self.hard >= 2:
            return plan.email
        tag, varied = plan.email_variant
        self._use("email")
        self._tag(tag)
        return varied


class CaseWriter:
    """Writes each planned case of a victim and records its truth."""

    def __init__(self, maker: PeopleMaker, sink: Sink, agents: list[tuple[str, int, int]]) -> None:
        self.maker = maker
        self.sink = sink
        self.agents = agents
        self.as_of = maker.as_of

    def write(self, victim: Victim, rng: Rng) -> None:
        for plan in victim.plans:
            case = Case(plan.kind, None)
            if plan.kind == "new_account":
                self._new_account(victim, plan, case, rng)
            elif plan.kind == "credit_application":
                self._credit_application(victim, plan, case, rng)
            elif plan.kind == "card_added":
                self._card_added(victim, plan, case, rng)
            else:
                self._takeover(victim, plan, case, rng)
            victim.cases.append(case)

    # ------------------------------------------------------------ helpers


    def _card_at(self, person: Person, t: int, rng: Rng) -> Card:
        live = [c for c in person.cards if c.usable(t)]
        return rng.pick(live or person.cards)

    def _device(self, thief: Thief, rng: Rng) -> tuple[str, str]:
        person = thief.person
        device = rng.pick(person.devices) if rng.random() < 0.6 else self.maker.new_device(rng)
        ip = rng.pick(person.ips) if rng.random() < 0.5 else self.maker.new_ip(rng)
        return ip, device

    def _orders(self, case: Case, account_id: str, start: int, count: int, pm_id: str | None, ship_id: str,
                bill_id: str | None, ip: str, device: str, rng: Rng) -> None:
        for _ in range(count):
            t = min(start + rng.between(600, 45 * DAY), self.as_of - 600)
            status = self.maker.order_status(rng, t)
            if status == "returned" or (status == "delivered" and rng.random() < 0.1):
                status = "cancelled"
            case.order_ids.append(self.sink.order(account_id, t, status, self.maker.basket(rng, fraud=True), pm_id,
                                                  ship_id, bill_id, ip, device))

    def _logins(self, case: Case, account_id: str, start: int, thief: Thief, ip: str, device: str,
                rng: Rng, count: int) -> None:
        for _ in range(count):
            t = min(start + rng.between(0, 60 * DAY), self.as_of - 60)
            if rng.random() < 0.3:
                ip, device = self._device(thief, rng)
            case.login_ids.append(self.sink.login(account_id, t, ip, device))

    def _open_account(self, victim: Victim, plan: CasePlan, case: Case, typist: Typist, rng: Rng,
                      dob: bool) -> tuple[str, str, str, str, str | None, str | None]:
        """A new account in the victim's name; returns (account id, name, ip, device, email, phone)."""
        ip, device = self._device(plan.thief, rng)
        name = typist.name()
        status = rng.choices(("active", "locked", "closed"), (65, 25, 10))[0]
        email, phone = typist.email(plan), typist.phone(plan.thief.person)
        account_id = self.sink.account(plan.at, name, email, phone, typist.dob() if dob else None, ip, device,
                                       status)
        case.account_id = account_id
        case.login_ids.append(self.sink.login(account_id, plan.at + rng.between(5, 600), ip, device))
        return account_id, name, ip, device, email, phone

    def _drop(self, case: Case, account_id: str, plan: CasePlan, recipient: str, at: int,
              rng: Rng) -> str:
        drop = rng.pick(plan.thief.drops)
        style = AddrStyle(abbreviate=rng.random() < 0.6, unit_form=rng.pick(("Apt", "#", "Unit")))
        address_id = self.sink.address(account_id, "shipping", recipient, render(drop, style), at)
        case.address_ids.append(address_id)
        return address_id

    # ------------------------------------------------------------ the four kinds

    def _new_account(self, victim: Victim, plan: CasePlan, case: Case, rng: Rng) -> None:
        typist = Typist(victim.person, case, rng)
        uses_card, uses_billing, uses_dob = rng.random() < 0.75, rng.random() < 0.7, rng.random() < 0.6
        while uses_card + uses_billing + uses_dob < 2:  # enough of the victim's identity to be found
            which = rng.below(3)
            uses_card, uses_billing, uses_dob = (uses_card or which == 0, uses_billing or which == 1,
                                                 uses_dob or which == 2)
        account_id, holder, ip, device, _, _ = self._open_account(victim, plan, case, typist, rng, uses_dob)
        sink = self.sink
        ship_id = self._drop(case, account_id, plan, holder if rng.random() < 0.7 else plan.thief.person.first
                             + " " + plan.thief.person.last, plan.at + 60, rng)
        if uses_billing:
            bill_id = sink.address(account_id, "billing", holder, typist.address(), plan.at + 60)
        else:
            bill_id = sink.address(account_id, "billing", holder, render(plan.thief.drops[0], AddrStyle()),
                                   plan.at + 60)
        case.address_ids.append(bill_id)
        if uses_card:
            card = self._card_at(victim.person, plan.at, rng)
            case.identifiers_used.append("card")
        else:  # a prepaid card bought for the purpose, in the victim's name
            card = self.maker.new_card(rng, plan.at, lasting=True)
        pm_id = sink.payment_method(account_id, card.number, card.brand, card.exp_month, card.exp_year, holder,
                                    bill_id, plan.at + 120, None)
        case.payment_method_ids.append(pm_id)
        self._orders(case, account_id, plan.at, rng.randint(1, 5), pm_id, ship_id, bill_id, ip, device, rng)
        self._logins(case, account_id, plan.at, plan.thief, ip, device, rng, rng.randint(1, 6))
        if case.order_ids and rng.random() < 0.15:
            body = rng.pick(_FRAUD_NOTES).format(order=rng.pick(case.order_ids))
            t = min(plan.at + rng.between(DAY, 20 * DAY), self.as_of - 60)
            case.note_ids.append(sink.note(account_id, t, self.maker.agent_at(rng, self.agents, t), "chat", body))

    def _credit_application(self, victim: Victim, plan: CasePlan, case: Case, rng: Rng) -> None:
        typist = Typist(victim.person, case, rng)
        account_id = None
        if plan.with_account:
            account_id, name, ip, device, email, phone = self._open_account(victim, plan, case, typist, rng,
                                                                             rng.random() < 0.5)
        else:
            ip, device = self._device(plan.thief, rng)
            name, phone = typist.name(), typist.phone(plan.thief.person)
            email = typist.email(plan)
        dob = typist.dob()
        ssn = typist.ssn()
        if rng.random() < 0.75:
            parts = typist.address()
        else:
            parts = render(rng.pick(plan.thief.drops), AddrStyle(abbreviate=True))
        at = plan.at + rng.between(60, 3600)
        decision = rng.choices(("approved", "declined", "pending"), (45, 40, 15))[0]
        decided = min(at + rng.between(30, 2 * DAY), self.as_of - 60) if decision != "pending" else None
        limit = rng.pick((500, 1000, 1500, 2500)) * 100 if decision == "approved" else None
        case.application_ids.append(self.sink.application(
            account_id, rng.pick(("store_card", "store_card", "financing")), at, name, dob, ssn, email, phone,
            parts, rng.between(40_000, 160_000) * 100, decision, decided, limit, ip, device,
        ))
        if account_id and decision == "approved":
            ship_id = self._drop(case, account_id, plan, name, at + 120, rng)
            self._orders(case, account_id, (decided or at), rng.randint(1, 3), None, ship_id, None, ip, device, rng)
        if account_id:
            self._logins(case, account_id, at, plan.thief, ip, device, rng, rng.randint(0, 4))

    def _card_added(self, victim: Victim, plan: CasePlan, case: Case, rng: Rng) -> None:
        thief = plan.thief
        own: AccountRefs = thief.refs[0]
        typist = Typist(victim.person, case, rng)
        case.account_id = own.account_id
        case.identifiers_used.append("card")
        card = self._card_at(victim.person, plan.at, rng)
        holder = typist.name() if rng.random() < 0.6 else own.name
        if rng.random() < 0.6:
            bill_id = self.sink.address(own.account_id, "billing", holder, typist.address(), plan.at)
            case.address_ids.append(bill_id)
        else:
            bill_id = own.home_at(plan.at)[1]
        pm_id = self.sink.payment_method(own.account_id, card.number, card.brand, card.exp_month, card.exp_year,
                                         holder, bill_id, plan.at + 30, None)
        case.payment_method_ids.append(pm_id)
        ship_id = self._drop(case, own.account_id, plan, own.name, plan.at + 40, rng) if rng.random() < 0.3 \
            else own.home_at(plan.at)[0]
        ip, device = rng.pick(thief.person.ips), rng.pick(thief.person.devices)
        case.login_ids.append(self.sink.login(own.account_id, plan.at, ip, device))
        self._orders(case, own.account_id, plan.at, rng.randint(1, 5), pm_id, ship_id, bill_id, ip, device, rng)

    def _takeover(self, victim: Victim, plan: CasePlan, case: Case, rng: Rng) -> None:
        own = victim.refs[0]
        case.account_id = own.account_id
        ip, device = self.maker.new_ip(rng), self.maker.new_device(rng)
        for _ in range(rng.randint(0, 4)):  # guessing the password first
            case.login_ids.append(self.sink.login(own.account_id, plan.at - rng.between(60, 3600), ip, device,
                                                  success=False))
        case.login_ids.append(self.sink.login(own.account_id, plan.at, ip, device))
        case.variations.append("new_device")
        case.variations.append("email_changed")
        if plan.phone_now:
            case.variations.append("phone_changed")
        if rng.random() < 0.4:
            body = "Customer called to change the email address on the account; verified by the card's last four."
            case.note_ids.append(self.sink.note(own.account_id, plan.at + rng.between(60, 1800),
                                                self.maker.agent_at(rng, self.agents, plan.at), "phone", body))
        ship_id = self._drop(case, own.account_id, plan, own.name if rng.random() < 0.6 else
                             f"{plan.thief.person.first} {plan.thief.person.last}", plan.at + 900, rng)
        case.variations.append("new_shipping_address")
        live = [pm for pm in own.pms if pm[1].usable(plan.at)] or own.pms
        pm_id = rng.pick(live)[0]
        case.payment_method_ids.append(pm_id)
        billing = own.home_at(plan.at)[1]
        self._orders(case, own.account_id, plan.at + 1200, rng.randint(1, 4), pm_id, ship_id, billing, ip, device, rng)
        self._logins(case, own.account_id, plan.at, plan.thief, ip, device, rng, rng.randint(1, 5))
