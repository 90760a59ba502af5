import json
from tests.browser.a11y import measure, elderly_failures, standard_button_failures, unnamed_controls

def test_scratch(phone_factory, server):
    for elderly in (False, True):
        p = phone_factory(f"scratch-{elderly}", elderly=elderly)
        for name, path in [("home", "/"), ("register", "/accounts/register"), ("login", "/accounts/login")]:
            p.goto(path)
            p.shot(name)
            a = measure(p.page)
            fails = elderly_failures(a) if elderly else standard_button_failures(a)
            print("=====", elderly, name, len(fails))
            print("\n".join(fails + unnamed_controls(a)))
    print(p.page.locator("form").first.aria_snapshot())
