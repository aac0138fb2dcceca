using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace HeadTracking.Trainer.Data;

/// <summary>
/// Where a data set is and in which layout, and how to split it: what `train`, `lr-find`, `eval`,
/// `interpret` and `data` are given (--data, --format, --images, --labels, --label-regex,
/// --value-columns, --valid-pct, --valid-groups). One reader for all, so `eval` sees exactly the
/// split `train` held out.
/// </summary>
internal sealed record DataSpec
{
    public static readonly string[] Formats = ["jsonl", "folder", "csv", "segmentation", "idx", "points", "boxes", "biwi"];

    /// <summary>Fashion-MNIST's classes, in label order: idx files carry only numbers.</summary>
    public static readonly string[] FashionMnistClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>jsonl: folders or labels files, several allowed; other formats: one path.</summary>
    public IReadOnlyList<string> Paths { get; init; } = [];

    public string Format { get; init; } = "jsonl";

    /// <summary>csv and points: the image folder (default: the CSV's folder); boxes: the root
    /// holding the image folders (default: the CSV's folder).</summary>
    public string? Images { get; init; }

    /// <summary>idx with an images file as the path: the labels file.</summary>
    public string? Labels { get; init; }

    /// <summary>folder: label each image by this regex on its file name instead of by its folder.</summary>
    public string? LabelRegex { get; init; }

    /// <summary>csv: columns holding continuous targets (a value head).</summary>
    public IReadOnlyList<string> ValueColumns { get; init; } = [];

    /// <summary>folder: the label (folder name or regex group) is a number, learned as one value
    /// of this name by a value head instead of as a class (counting as regression).</summary>
    public string? LabelAsValue { get; init; }

    /// <summary>idx: class names in label order (default Fashion-MNIST's).</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>A random share of items held out when the data carries no split (null: 10% of
    /// identities, or of items where there are none).</summary>
    public double? ValidPct { get; init; }

    /// <summary>Identities to hold out, overriding any split the data carries.</summary>
    public IReadOnlyList<string> ValidGroups { get; init; } = [];

    public int Seed { get; init; }

    public bool Strict { get; init; }

    /// <summary>Reads the data set (no split applied).</summary>
    /// <exception cref="ArgumentException">An option does not fit the format; the message names it.</exception>
    public Dataset Load()
    {
        if (!Formats.Contains(Format))
        {
            throw new ArgumentException($"option --format: '{Format}' is not one of: {string.Join(", ", Formats)}");
        }

        if (Paths.Count == 0)
        {
            throw new ArgumentException("option --data: no data given");
        }

        if (Format != "jsonl" && Paths.Count > 1)
        {
            throw new ArgumentException($"option --data: format {Format} reads one path, got {Paths.Count}");
        }

        if (LabelRegex != null && Format != "folder")
        {
            throw new ArgumentException($"option --label-regex: labels file names of --format folder, not {Format}");
        }

        if (ValueColumns.Count > 0 && Format is not ("csv" or "jsonl"))
        {
            throw new ArgumentException($"option --value-columns: columns of --format csv, not {Format}");
        }

        if (LabelAsValue != null && Format != "folder")
        {
            throw new ArgumentException($"option --label-as-value: turns the labels of --format folder into values, not those of {Format}");
        }

        string path = Paths[0];
        string CsvDir() => Images ?? Path.GetDirectoryName(Path.GetFullPath(path))!;
        Dataset d = Format switch
        {
            "jsonl" => Jsonl(),
            "folder" => Loaders.Loaders.FolderPerClass(path, Strict, LabelRegex),
            "csv" => Loaders.Loaders.LabelCsv(path, CsvDir(), strict: Strict, valueColumns: ValueColumns),
            "segmentation" => Loaders.Loaders.Segmentation(path, Strict),
            "idx" when Directory.Exists(path) => Loaders.Loaders.IdxFolder(path, ClassNames ?? FashionMnistClasses),
            "idx" => Loaders.Loaders.Idx(path, Labels ?? throw new ArgumentException("option --labels: --format idx with an images file needs its labels file (or give --data the folder holding both)"), ClassNames ?? FashionMnistClasses),
            "points" => Loaders.Loaders.PointsCsv(path, CsvDir(), strict: Strict),
            "boxes" => Loaders.Loaders.BoxCsv(path, CsvDir(), Strict),
            "biwi" => Loaders.Loaders.Biwi(path, Strict),
            _ => throw new ArgumentException($"option --format: '{Format}'"),
        };
        return LabelAsValue != null ? LabelsToValues(d, LabelAsValue) : d;
    }

    /// <summary>Reads the data set and splits it: named groups when given; else the split the
    /// data carries; else a random share of items (<see cref="ValidPct"/>) or, by default, 10% of
    /// identities (whole people or source photos; items without one count alone).</summary>
    /// <exception cref="InvalidDataException">Too little to train and validate.</exception>
    public (Dataset All, List<DataItem> Train, List<DataItem> Valid) LoadSplit()
    {
        Dataset all = Load();
        Dataset split = ValidGroups.Count > 0 ? Splitters.ByGroup(all, [.. ValidGroups])
            : all.Items.Any(i => i.Label.Split == "valid") ? Splitters.ByColumn(all)
            : ValidPct is { } pct ? Splitters.Random(all, pct, Seed)
            : Splitters.ByGroup(all, validFraction: 0.1, seed: Seed);
        List<DataItem> train = [.. split.Train], valid = [.. split.Valid];
        if (train.Count < 2 || valid.Count < 1)
        {
            throw new InvalidDataException($"--data {all.Source}: {train.Count} training and {valid.Count} validation items; need at least 2 and 1");
        }

        return (split, train, valid);
    }

    /// <summary>Each item's one class label, a number, becomes its value <paramref name="name"/>.</summary>
    /// <exception cref="InvalidDataException">A label is not a number; the message names the image.</exception>
    private static Dataset LabelsToValues(Dataset d, string name)
    {
        var items = new List<DataItem>(d.Items.Count);
        foreach (DataItem item in d.Items)
        {
            string label = item.Label.Classes is [string only] ? only : "";
            if (!double.TryParse(label, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
            {
                throw new InvalidDataException($"{item.ImagePath}: option --label-as-value needs a numeric label, got '{label}'");
            }

            items.Add(item with { Label = item.Label with { Classes = null, Values = [value] } });
        }

        return new Dataset(d.Source, items, [], d.Skipped) { ValueNames = [name] };
    }

    private Dataset Jsonl()
    {
        var items = new List<DataItem>();
        var skipped = new SkipReport();
        foreach (string folder in Paths)
        {
            string labels = Directory.Exists(folder) ? Path.Combine(folder, LabelsFile.FileName) : folder;
            Dataset d = Loaders.Loaders.Jsonl(labels, Strict);
            items.AddRange(d.Items);
            foreach (string s in d.Skipped.First)
            {
                skipped.Add(s);
            }
        }

        return new Dataset(string.Join(",", Paths), items, [.. items.SelectMany(i => i.Label.Classes ?? []).Distinct().Order(StringComparer.Ordinal)], skipped)
        {
            ValueNames = ValueColumns.Count > 0 ? ValueColumns : items.FirstOrDefault(i => i.Label.Values != null)?.Label.Values is { } v ? [.. Enumerable.Range(0, v.Length).Select(i => $"value{i}")] : [],
        };
    }
}
