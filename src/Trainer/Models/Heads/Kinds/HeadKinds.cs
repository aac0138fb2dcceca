using System;
using System.Collections.Generic;
using System.Linq;

namespace HeadTracking.Trainer.Models.Heads.Kinds;

/// <summary>The registry of head kinds, by the name <c>--heads</c> takes.</summary>
internal static class HeadKinds
{
    private static readonly HeadKind[] s_all =
        [new CenterKind(), new KeypointsKind(), new BoxKind(), new PoseKind(), new ClassKind(), new MaskKind(), new ValueKind()];

    private static readonly Dictionary<string, HeadKind> s_byName = s_all.ToDictionary(k => k.Name);

    /// <summary>Every kind, in the order help lists them.</summary>
    public static IReadOnlyList<HeadKind> All => s_all;

    /// <summary>Their names.</summary>
    public static string[] Names { get; } = [.. s_all.Select(k => k.Name)];

    /// <exception cref="ArgumentException">No kind of that name; the message lists the known ones.</exception>
    public static HeadKind Of(string name) =>
        s_byName.TryGetValue(name, out HeadKind? kind) ? kind
        : throw new ArgumentException($"unknown head kind '{name}' (known: {string.Join(", ", Names)})", nameof(name));
}
