"""Azure regions as the embedded platform knows them: names, display names, pairs, AKS tiers.

Always holds: every key of ``REGIONS`` is a real Azure region name (lower case, no spaces);
a region's ``pair`` is either None or another key of ``REGIONS``. Pairs follow Azure's table
and, like Azure's, are not all symmetric: West US 3 pairs with East US while East US pairs
with West US; Brazil South pairs with South Central US while South Central US pairs with
North Central US. ``aks_tiers`` holds the AKS backup storage tiers offered in the region
("operational", "vault"); an empty set means AKS backup is not offered there.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    """One Azure region."""

    name: str
    display_name: str
    pair: str | None
    aks_tiers: frozenset[str]


# (name, display name, paired region or None)
_TABLE: tuple[tuple[str, str, str | None], ...] = (
    # Americas
    ("eastus", "East US", "westus"),
    ("westus", "West US", "eastus"),
    ("eastus2", "East US 2", "centralus"),
    ("centralus", "Central US", "eastus2"),
    ("westus2", "West US 2", "westcentralus"),
    ("westcentralus", "West Central US", "westus2"),
    ("westus3", "West US 3", "eastus"),
    ("northcentralus", "North Central US", "southcentralus"),
    ("southcentralus", "South Central US", "northcentralus"),
    ("canadacentral", "Canada Central", "canadaeast"),
    ("canadaeast", "Canada East", "canadacentral"),
    ("brazilsouth", "Brazil South", "southcentralus"),
    ("brazilsoutheast", "Brazil Southeast", "brazilsouth"),
    ("mexicocentral", "Mexico Central", None),
    ("chilecentral", "Chile Central", None),
    # Europe
    ("northeurope", "North Europe", "westeurope"),
    ("westeurope", "West Europe", "northeurope"),
    ("uksouth", "UK South", "ukwest"),
    ("ukwest", "UK West", "uksouth"),
    ("francecentral", "France Central", "francesouth"),
    ("francesouth", "France South", "francecentral"),
    ("germanywestcentral", "Germany West Central", "germanynorth"),
    ("germanynorth", "Germany North", "germanywestcentral"),
    ("swedencentral", "Sweden Central", "swedensouth"),
    ("swedensouth", "Sweden South", "swedencentral"),
    ("switzerlandnorth", "Switzerland North", "switzerlandwest"),
    ("switzerlandwest", "Switzerland West", "switzerlandnorth"),
    ("norwayeast", "Norway East", "norwaywest"),
    ("norwaywest", "Norway West", "norwayeast"),
    ("italynorth", "Italy North", None),
    ("polandcentral", "Poland Central", None),
    ("spaincentral", "Spain Central", None),
    ("austriaeast", "Austria East", None),
    ("belgiumcentral", "Belgium Central", None),
    # Asia Pacific
    ("southeastasia", "Southeast Asia", "eastasia"),
    ("eastasia", "East Asia", "southeastasia"),
    ("japaneast", "Japan East", "japanwest"),
    ("japanwest", "Japan West", "japaneast"),
    ("koreacentral", "Korea Central", "koreasouth"),
    ("koreasouth", "Korea South", "koreacentral"),
    ("australiaeast", "Australia East", "australiasoutheast"),
    ("australiasoutheast", "Australia Southeast", "australiaeast"),
    ("australiacentral", "Australia Central", "australiacentral2"),
    ("australiacentral2", "Australia Central 2", "australiacentral"),
    ("centralindia", "Central India", "southindia"),
    ("southindia", "South India", "centralindia"),
    ("westindia", "West India", "southindia"),
    ("jioindiawest", "Jio India West", "jioindiacentral"),
    ("jioindiacentral", "Jio India Central", "jioindiawest"),
    ("newzealandnorth", "New Zealand North", None),
    ("indonesiacentral", "Indonesia Central", None),
    ("malaysiawest", "Malaysia West", None),
    # Middle East and Africa
    ("uaenorth", "UAE North", "uaecentral"),
    ("uaecentral", "UAE Central", "uaenorth"),
    ("southafricanorth", "South Africa North", "southafricawest"),
    ("southafricawest", "South Africa West", "southafricanorth"),
    ("israelcentral", "Israel Central", None),
    ("qatarcentral", "Qatar Central", None),
    # Sovereign clouds
    ("chinaeast2", "China East 2", "chinanorth2"),
    ("chinanorth2", "China North 2", "chinaeast2"),
    ("chinaeast3", "China East 3", "chinanorth3"),
    ("chinanorth3", "China North 3", "chinaeast3"),
    ("usgovvirginia", "US Gov Virginia", "usgovtexas"),
    ("usgovtexas", "US Gov Texas", "usgovvirginia"),
    ("usgovarizona", "US Gov Arizona", "usgovtexas"),
)

# From the AKS backup support matrix: regions storing backups in both the Vault and the
# Operational (snapshot) tier, and regions offering the Operational tier only.
AKS_VAULT_AND_OPERATIONAL = (
    "Australia Central, Australia Central 2, Australia East, Australia Southeast, Brazil South,"
    " Brazil Southeast, Canada Central, Canada East, Central India, Central US, East Asia,"
    " East US, East US 2, France Central, France South, Germany North, Germany West Central,"
    " Italy North, Japan East, Japan West, Jio India West, Korea Central, Korea South,"
    " North Central US, North Europe, Norway East, Norway West, South Africa North,"
    " South Africa West, South Central US, South India, Southeast Asia, Sweden Central,"
    " Switzerland North, Switzerland West, UAE North, UK South, UK West, West Central US,"
    " West Europe, West US, West US 2, West US 3"
)
AKS_OPERATIONAL_ONLY = (
    "China East 2, China East 3, China North 2, China North 3, US Gov Arizona, US Gov Texas,"
    " US Gov Virginia, Israel Central, Poland Central, Spain Central"
)


def _display_names(text: str) -> set[str]:
    return {part.strip().lower() for part in text.split(",") if part.strip()}


def _build() -> dict[str, Region]:
    both = _display_names(AKS_VAULT_AND_OPERATIONAL)
    operational = _display_names(AKS_OPERATIONAL_ONLY)
    regions: dict[str, Region] = {}
    for name, display, pair in _TABLE:
        key = display.lower()
        if key in both:
            tiers = frozenset({"operational", "vault"})
        elif key in operational:
            tiers = frozenset({"operational"})
        else:
            tiers = frozenset()
        regions[name] = Region(name, display, pair, tiers)
    return regions


REGIONS: dict[str, Region] = _build()


def region_key(region: str) -> str:
    """A region name as Azure compares it and ``Fabric.check_region`` spells it: lower case,
    no spaces ("East US" is eastus)."""
    return region.lower().replace(" ", "")


def paired_region(region: str) -> str | None:
    """The region's Azure pair, or None when it has none (or the name is unknown)."""
    found = REGIONS.get(region.lower())
    return found.pair if found else None
