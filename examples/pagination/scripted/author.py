"""Writes the example's scripted trajectories: hand-written model replies that a scripted model replays.

Run `python3 author.py` here after changing a script; the JSON files are what the CLI and the tests read.
"""
import json


def call(thought, name, **params):
    def param(key, value):
        return f"<parameter={key}>\n{value}\n</parameter>" if "\n" in value else f"<parameter={key}>{value}</parameter>"
    body = "\n".join(param(k, v) for k, v in params.items())
    return {"content": f"{thought}\n\n<function={name}>\n{body}\n</function>"}


REPRO = ("from pager import page_count, paginate\n\n"
         "print(page_count(31, 10), page_count(3, 10), page_count(0, 10))\n"
         "assert page_count(31, 10) == 4, page_count(31, 10)\n"
         "assert page_count(30, 10) == 3, page_count(30, 10)\n"
         "assert page_count(0, 10) == 0, page_count(0, 10)\n"
         "assert paginate(list(range(31)), 4, per_page=10).items == [30]\n"
         "print(\"OK\")\n")
PAGE_4 = "python3 -c 'from pager import paginate; print(paginate(list(range(31)), 4, per_page=10).items)'"
EXPLORE = [
    call("Let me find where page counts are computed.", "search", search_term="page_count"),
    call("The function lives in pager/core.py. Let me read it.", "file_editor", command="view", path="pager/core.py"),
    call("`page_count` uses floor division, which drops a partial last page. I'll reproduce the issue first.",
         "file_editor", command="create", path="reproduce_issue.py", file_text=REPRO),
    call("Run the reproduction script.", "execute_bash", cmd="python3 reproduce_issue.py"),
]
OLD = "    return total // per_page"

SCRIPTS = {
    # Correct: integer ceiling division.
    "fix-ceil": EXPLORE + [
        call("Confirmed: 31 items give 3 pages, so page 4 is out of range. Round up instead of down; integer arithmetic "
             "avoids float precision issues for large totals.",
             "file_editor", command="str_replace", path="pager/core.py", old_str=OLD,
             new_str="    return (total + per_page - 1) // per_page"),
        call("Run the reproduction again and the test suite.", "execute_bash",
             cmd="python3 reproduce_issue.py && python3 -m unittest 2>&1 | tail -3"),
        call("31 items now give 4 pages, 3 items one page, 0 items no pages, and the tests pass. Done.",
             "finish", command="submit", result="page_count rounds up, so a partial last page counts."),
    ],
    # Correct, written differently: math.ceil.
    "fix-math-ceil": EXPLORE + [
        call("Use math.ceil for the page count.", "file_editor", command="str_replace", path="pager/core.py",
             old_str=OLD, new_str="    return math.ceil(total / per_page)"),
        call("Import math at the top of the module.", "file_editor", command="str_replace", path="pager/core.py",
             old_str="from dataclasses import dataclass\n", new_str="import math\nfrom dataclasses import dataclass\n"),
        call("Check the fix and the tests.", "execute_bash", cmd="python3 reproduce_issue.py; python3 -m unittest 2>&1 | tail -3"),
        call("Fixed.", "finish", command="submit", result="page_count uses math.ceil."),
    ],
    # Wrong: always adds a page, so exact multiples and empty lists get one page too many.
    "fix-plus-one": EXPLORE + [
        call("The last page is missing, so add one page.", "file_editor", command="str_replace",
             path="pager/core.py", old_str=OLD, new_str="    return total // per_page + 1"),
        call("Check that page 4 exists now.", "execute_bash", cmd=PAGE_4),
        call("Page 4 now exists. Done.", "finish", command="submit", result="page_count adds the last page."),
    ],
    # Wrong: hides the IndexError in paginate instead of fixing the count.
    "fix-range-check": EXPLORE + [
        call("paginate raises for the last page; relax its range check.", "file_editor", command="str_replace",
             path="pager/core.py", old_str="    if number < 1 or (pages and number > pages):",
             new_str="    if number < 1 or (pages and number > pages + 1):"),
        call("Check that page 4 is returned now.", "execute_bash", cmd=PAGE_4),
        call("Page 4 is returned now. Done.", "finish", command="submit", result="paginate accepts the partial last page."),
    ],
}

for name, responses in SCRIPTS.items():
    with open(f"{name}.json", "w") as out:
        json.dump({"model": f"scripted-{name}", "responses": responses}, out, indent=2)
        out.write("\n")
