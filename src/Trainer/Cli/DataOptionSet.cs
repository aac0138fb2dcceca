using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using HeadTracking.Trainer.Data;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Trainer.Cli;

/// <summary>--data and the options that say how to read and split it (train, lr-find, eval, interpret).</summary>
internal sealed class DataOptionSet
{
    public Option<string> Data { get; } = Text("--data", "The data: folders or labels.jsonl files (jsonl, comma-separated), a root folder (folder, segmentation, biwi, idx), or a CSV (csv, points, boxes).", required: true);
    public Option<string> Format { get; } = Text("--format", $"Layout of --data: {string.Join(", ", DataSpec.Formats)} (default jsonl). See `headtracker-train data --help`.");
    public Option<string> Images { get; } = Text("--images", "csv and points: the image folder; boxes: the root holding the image folders (default: the CSV's folder).");
    public Option<string> Labels { get; } = Text("--labels", "idx with an images file as --data: its labels file.");
    public Option<string> LabelRegex { get; } = Text("--label-regex", "folder: label each image by the first group of this regex on its file name (fastai's RegexLabeller), e.g. '(.+)_\\d+.jpg$'.");
    public Option<string> ValueColumns { get; } = Text("--value-columns", "csv: columns of continuous targets for a value head, comma-separated (e.g. age).");
    public Option<string> LabelAsValue { get; } = Text("--label-as-value", "folder: the labels are numbers (e.g. a folder per count); learn them as one value of this name with a value head (--heads value) instead of as classes.");
    public Option<double?> ValidPct { get; } = Share("--valid-pct", "Hold out this share of items at random when the data carries no split (default: 10% of identities, or of items where there are none).");
    public Option<string> ValidGroups { get; } = Text("--valid-groups", "Identities to hold out for validation, comma-separated (overrides the data's own split).");

    public void AddTo(Command c)
    {
        foreach (Option o in new Option[] { Data, Format, Images, Labels, LabelRegex, ValueColumns, LabelAsValue, ValidPct, ValidGroups })
        {
            c.Options.Add(o);
        }
    }

    public DataSpec Read(ParseResult r, int seed)
    {
        string format = r.GetValue(Format) ?? "jsonl";
        return new DataSpec
        {
            Format = format,
            Paths = format == "jsonl" ? CliArgs.List(r.Get(Data)) : [r.Get(Data)],
            Images = r.GetValue(Images),
            Labels = r.GetValue(Labels),
            LabelRegex = r.GetValue(LabelRegex),
            ValueColumns = r.GetValue(ValueColumns) is { } v ? CliArgs.List(v) : [],
            LabelAsValue = r.GetValue(LabelAsValue),
            ValidPct = r.GetValue(ValidPct),
            ValidGroups = r.GetValue(ValidGroups) is { } g ? CliArgs.List(g) : [],
            Seed = seed,
        };
    }

        /// <summary>The items of one split of a data set: train's split, from the same options.</summary>
        /// <exception cref="ArgumentException">Not all, train or valid.</exception>
        /// <exception cref="InvalidDataException">The split is empty.</exception>
        public static List<DataItem> SplitItems(DataSpec spec, string split)
        {
            if (split is not ("all" or "train" or "valid"))
            {
                throw new ArgumentException($"option --split: '{split}' is not one of: all, train, valid");
            }

            (Dataset all, List<DataItem> train, List<DataItem> valid) = spec.LoadSplit();
            List<DataItem> items = split switch { "train" => train, "valid" => valid, _ => [.. all.Items] };
            if (items.Count == 0)
            {
                throw new InvalidDataException($"--data {string.Join(",", spec.Paths)}: no {split} items");
            }

            return items;
        }
}
