"""What a reference test does when its reference cannot be imported.

Locally the test is skipped (exit 77, which ctest shows as "Skipped") with the message naming the
missing package and how to install it. Under CI (`DETKIT_REQUIRE_REFERENCES=1`, set by .ci/run) a
missing reference is a failure: a test that cannot compare against its reference proves nothing.
"""
import os
import sys


def references_required():
    return os.environ.get("DETKIT_REQUIRE_REFERENCES", "") not in ("", "0")


def missing_reference(what, exc, install):
    """Skip (exit 77) or, when references are required, fail (exit 1)."""
    if references_required():
        print(f"FAIL: reference {what} cannot be imported ({exc!r}) and DETKIT_REQUIRE_REFERENCES=1; "
              f"install it: {install}")
        sys.exit(1)
    print(f"SKIP: reference {what} cannot be imported ({exc!r}); install it: {install}")
    sys.exit(77)
