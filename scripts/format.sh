#!/usr/bin/env bash
# Formats the sources with the toolchain's swift-format and .swift-format.
set -euo pipefail
cd "$(dirname "$0")/.."
swift format --in-place --recursive Sources Tests Package.swift
