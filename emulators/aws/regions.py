"""Region names, from one source: the partition data (endpoints.json) of
the botocore in the venv, i.e. the regions the SDKs themselves know.

The emulator is an endpoint of the ``aws`` partition (every ARN it hands
out is ``arn:aws:…``), so a region is known when it is one of that
partition's explicit CloudFormation regions. The partition's region regex
is not used: ``us-east-99`` matches it, and AWS refuses that region.
"""

from __future__ import annotations

import botocore.session

from query_protocol import ApiError, validation_error

DEFAULT_REGION = "us-east-1"

AWS_REGIONS: frozenset[str] = frozenset(
    botocore.session.get_session().get_available_regions("cloudformation", partition_name="aws")
)


def is_known(region: str | None) -> bool:
    return region in AWS_REGIONS


def check_regions(regions) -> None:
    """Refuse the first unknown region of a ``Regions`` / ``RegionOrder``
    list. AWS's exact wording for this case is not documented; this is an
    approximation (see README)."""
    for region in regions or []:
        if not is_known(region):
            raise validation_error(f"Region {region} is not supported")


def bad_scope(region: str) -> ApiError:
    """What an AWS endpoint answers a request signed for a region it does
    not serve (SigV4 credential scope), e.g. SQS's
    ``SignatureDoesNotMatch: Credential should be scoped to a valid region, not 'x'.``"""
    return ApiError("SignatureDoesNotMatch", f"Credential should be scoped to a valid region, not '{region}'. ", 403)
