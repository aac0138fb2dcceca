using System;
using System.Collections.Generic;
using System.Linq;

namespace HeadTracking.Trainer.Models.Backbones;

/// <summary>Backbones by name, each with its default input size.</summary>
internal static class BackboneRegistry
{
    private static readonly Dictionary<string, (int DefaultSize, Func<int, Backbone> Create)> s_entries = new()
    {
        ["blazeface"] = (128, size => new BlazeFaceBackbone(size)),
        ["resnet18"] = (224, size => new ResNet(18, size)),
        ["resnet34"] = (224, size => new ResNet(34, size)),
        ["mobilenetv2"] = (224, size => new MobileNetV2(size)),
    };

    public static IEnumerable<string> Names => s_entries.Keys;

    public static int DefaultSize(string name) => Entry(name).DefaultSize;

    /// <param name="inputSize">Square input size; 0 for the backbone's default.</param>
    public static Backbone Create(string name, int inputSize = 0)
    {
        var entry = Entry(name);
        return entry.Create(inputSize > 0 ? inputSize : entry.DefaultSize);
    }

    private static (int DefaultSize, Func<int, Backbone> Create) Entry(string name) =>
        s_entries.TryGetValue(name, out var entry)
            ? entry
            : throw new ArgumentException($"unknown backbone '{name}'; known: {string.Join(", ", s_entries.Keys.Order(StringComparer.Ordinal))}");
}
