"""Calorimeter materials (PDG table in code) and the sampling stack they make.

Radiation length, after Tsai (Rev. Mod. Phys. 46 (1974) 815; PDG RPP "Passage of particles through
matter", eq. 34.26):

    1/X0 = 4 α r_e² (N_A/A) [Z² (L_rad − f(Z)) + Z L′_rad]                      [g/cm²]⁻¹

with L_rad = ln(184.15 Z^−1/3), L′_rad = ln(1194 Z^−2/3) for Z > 4 (tabulated for H to Be) and the
Coulomb correction f(Z) = a²[(1+a²)⁻¹ + 0.20206 − 0.0369a² + 0.0083a⁴ − 0.002a⁶], a = αZ.
Compounds and mixtures add by mass fraction w_j: 1/X0 = Σ w_j / X0_j (PbWO4: 7.39 g/cm²).

Critical energy: the PDG's tabulated values (Rossi's definition, electrons) are kept; the
approximation E_c = 610 MeV/(Z + 1.24) for solids and liquids is within 5 % of them.
Molière radius: R_M = E_s X0 / E_c with E_s = 21.2 MeV.

A sampling calorimeter repeats one cell: an absorber plate (thickness d_abs) and an active layer
(d_act). Quantities derived from the cell (mm thicknesses, ρ in g/cm³, dE/dx_min in MeV cm²/g):

- mip sampling fraction f = (dE/dx ρ d)_act / [(dE/dx ρ d)_abs + (dE/dx ρ d)_act];
- depth per cell in radiation lengths, Σ ρ_i d_i / X0_i, and an effective medium for shower
  shapes (as GFLASH does for sampling calorimeters, Grindhammer & Peters hep-ex/0001020): mass
  fractions w_i = ρ_i d_i / Σ ρ d, 1/X0_eff = Σ w_i/X0_i, E_c,eff = X0_eff Σ w_i E_c,i / X0_i,
  Z_eff = Σ w_i Z_i, R_M,eff = 21.2 MeV · X0_eff / E_c,eff;
- the energy a shower track leaves in one cell, ε = ΔE_mip,cell / ⟨cos θ⟩, where the tracks that
  carry the sampling signal are soft electrons at a typical angle cos θ ≈ cos(E_s/(π E_c,abs))
  (Amaldi, Phys. Scripta 23 (1981) 409); ε sets the number of active-layer crossings E/ε;
- PDG's rule of thumb for the stochastic term, a ≈ 2.7 %·√(d_act[mm]/f).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

__all__ = [
    "ELEMENTS",
    "MATERIALS",
    "ABSORBERS",
    "ACTIVE_MEDIA",
    "Material",
    "SamplingCalorimeter",
    "tsai_radiation_length",
    "radiation_length",
    "critical_energy_approximation",
    "moliere_radius",
]

FINE_STRUCTURE = 1 / 137.035999084
ELECTRON_RADIUS_CM = 2.8179403262e-13
AVOGADRO = 6.02214076e23
SCALE_ENERGY_MEV = 21.2  # E_s = m_e c² √(4π/α)

#: symbol -> (Z, A in g/mol)
ELEMENTS: dict[str, tuple[int, float]] = {
    "H": (1, 1.008),
    "C": (6, 12.011),
    "O": (8, 15.999),
    "Ar": (18, 39.948),
    "Fe": (26, 55.845),
    "W": (74, 183.84),
    "Pb": (82, 207.2),
}

# Tsai's radiation logarithms where the Thomas-Fermi forms fail (Z ≤ 4): Z -> (L_rad, L'_rad).
_LIGHT_ELEMENT_LOGARITHMS = {1: (5.31, 6.144), 2: (4.79, 5.621), 3: (4.74, 5.805), 4: (4.71, 5.924)}


def _coulomb_correction(z: int) -> float:
    a2 = (FINE_STRUCTURE * z) ** 2
    return a2 * (1 / (1 + a2) + 0.20206 - 0.0369 * a2 + 0.0083 * a2**2 - 0.002 * a2**3)


def tsai_radiation_length(z: int, a: float) -> float:
    """Radiation length of an element in g/cm² (Tsai 1974)."""
    if z in _LIGHT_ELEMENT_LOGARITHMS:
        l_rad, l_rad_prime = _LIGHT_ELEMENT_LOGARITHMS[z]
    else:
        l_rad, l_rad_prime = math.log(184.15 * z ** (-1 / 3)), math.log(1194 * z ** (-2 / 3))
    strength = 4 * FINE_STRUCTURE * ELECTRON_RADIUS_CM**2 * AVOGADRO / a
    return 1 / (strength * (z * z * (l_rad - _coulomb_correction(z)) + z * l_rad_prime))


def critical_energy_approximation(z: float) -> float:
    """E_c ≈ 610 MeV/(Z + 1.24) for solids and liquids (PDG RPP), in MeV."""
    return 610.0 / (z + 1.24)


def moliere_radius(radiation_length_g: float, critical_energy_mev: float) -> float:
    """R_M = 21.2 MeV · X0 / E_c, in the unit of X0 (g/cm²)."""
    return SCALE_ENERGY_MEV * radiation_length_g / critical_energy_mev


@dataclass(frozen=True)
class Material:
    """One PDG material: density g/cm³, composition by mass, dE/dx_min MeV cm²/g, E_c MeV."""

    name: str
    density: float
    composition: tuple[tuple[str, float], ...]  # (element, mass fraction)
    dedx_min: float
    critical_energy: float

    @property
    def radiation_length_g(self) -> float:
        return radiation_length(self.composition)

    @property
    def radiation_length_cm(self) -> float:
        return self.radiation_length_g / self.density

    @property
    def moliere_radius_cm(self) -> float:
        return moliere_radius(self.radiation_length_g, self.critical_energy) / self.density

    @property
    def mean_z(self) -> float:
        """Mass-weighted atomic number, GFLASH's Z of a compound."""
        return sum(w * ELEMENTS[element][0] for element, w in self.composition)


def radiation_length(composition) -> float:
    """X0 in g/cm² of a compound or mixture: 1/X0 = Σ w_j / X0_j (w_j mass fractions)."""
    return 1 / sum(w / tsai_radiation_length(*ELEMENTS[element]) for element, w in composition)


def _by_mass(atoms: dict[str, int]) -> tuple[tuple[str, float], ...]:
    """Mass fractions of a chemical formula given as element -> number of atoms."""
    masses = {element: n * ELEMENTS[element][1] for element, n in atoms.items()}
    total = sum(masses.values())
    return tuple((element, mass / total) for element, mass in masses.items())


# PDG "Atomic and nuclear properties of materials"; the polystyrene scintillator is C8H8.
MATERIALS: dict[str, Material] = {
    "Pb": Material("Pb", 11.35, (("Pb", 1.0),), 1.122, 7.43),
    "W": Material("W", 19.3, (("W", 1.0),), 1.145, 7.97),
    "Fe": Material("Fe", 7.874, (("Fe", 1.0),), 1.451, 21.68),
    "PbWO4": Material("PbWO4", 8.30, _by_mass({"Pb": 1, "W": 1, "O": 4}), 1.229, 9.64),
    "LAr": Material("LAr", 1.396, (("Ar", 1.0),), 1.508, 32.84),
    "scintillator": Material("scintillator", 1.060, _by_mass({"C": 8, "H": 8}), 1.936, 93.11),
}
ABSORBERS = ("Pb", "W", "Fe", "PbWO4")
ACTIVE_MEDIA = ("LAr", "scintillator")


@dataclass(frozen=True)
class SamplingCalorimeter:
    """A stack of ``layers`` identical cells: absorber plate then active layer (thicknesses mm)."""

    absorber: str = "Pb"
    active_medium: str = "LAr"
    absorber_thickness: float = 1.5
    active_thickness: float = 4.0
    layers: int = 80

    @cached_property
    def _materials(self) -> tuple[Material, Material]:
        return MATERIALS[self.absorber], MATERIALS[self.active_medium]

    @cached_property
    def _areal_masses(self) -> np.ndarray:
        """ρ·d of absorber and active layer, g/cm²."""
        absorber, active = self._materials
        return np.array(
            [
                absorber.density * self.absorber_thickness / 10,
                active.density * self.active_thickness / 10,
            ]
        )

    @cached_property
    def mip_energy_per_cell(self) -> np.ndarray:
        """Energy a minimum-ionising particle loses in absorber and active layer, MeV."""
        absorber, active = self._materials
        return self._areal_masses * np.array([absorber.dedx_min, active.dedx_min])

    @property
    def sampling_fraction(self) -> float:
        """Mip sampling fraction f: the active layer's share of a mip's energy loss."""
        absorber_loss, active_loss = self.mip_energy_per_cell
        return float(active_loss / (absorber_loss + active_loss))

    @cached_property
    def cell_depth(self) -> float:
        """Depth of one cell in radiation lengths."""
        x0 = np.array([m.radiation_length_g for m in self._materials])
        return float(np.sum(self._areal_masses / x0))

    @property
    def depth(self) -> float:
        """Depth of the whole stack in radiation lengths."""
        return self.cell_depth * self.layers

    @property
    def layer_edges(self) -> np.ndarray:
        """Front and back of every cell in radiation lengths, shape (layers + 1,)."""
        return self.cell_depth * np.arange(self.layers + 1, dtype=float)

    @cached_property
    def _mass_fractions(self) -> np.ndarray:
        return self._areal_masses / self._areal_masses.sum()

    @property
    def radiation_length_g(self) -> float:
        """Effective X0 of the stack, g/cm²."""
        return float(self._areal_masses.sum() / self.cell_depth)

    @property
    def density(self) -> float:
        """Mean density of the stack, g/cm³."""
        return float(
            self._areal_masses.sum() * 10 / (self.absorber_thickness + self.active_thickness)
        )

    @property
    def radiation_length_cm(self) -> float:
        return self.radiation_length_g / self.density

    @property
    def critical_energy(self) -> float:
        """Effective critical energy (GFLASH's weighting), MeV."""
        weights = [
            w / m.radiation_length_g
            for w, m in zip(self._mass_fractions, self._materials, strict=True)
        ]
        energies = [m.critical_energy for m in self._materials]
        return float(self.radiation_length_g * np.dot(weights, energies))

    @property
    def moliere_radius_cm(self) -> float:
        return moliere_radius(self.radiation_length_g, self.critical_energy) / self.density

    @property
    def mean_z(self) -> float:
        return float(np.dot(self._mass_fractions, [m.mean_z for m in self._materials]))

    @property
    def crossing_cosine(self) -> float:
        """Typical cos θ of the soft electrons that carry the sampling signal (Amaldi 1981)."""
        return math.cos(SCALE_ENERGY_MEV / (math.pi * self._materials[0].critical_energy))

    @property
    def energy_per_crossing(self) -> float:
        """ε: shower energy deposited per active-layer crossing, MeV."""
        return float(self.mip_energy_per_cell.sum() / self.crossing_cosine)

    @property
    def rule_of_thumb_stochastic_term(self) -> float:
        """PDG's a ≈ 2.7 %·√(d_act[mm]/f), as a fraction (√GeV)."""
        return 0.027 * math.sqrt(self.active_thickness / self.sampling_fraction)
