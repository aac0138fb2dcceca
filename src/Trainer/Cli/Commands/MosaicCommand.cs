using System;
using System.CommandLine;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Synthesis;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Trainer.Cli.Commands;

/// <summary><c>mosaic</c>: a multi-label task of 2x2 mosaics of idx images.</summary>
internal static class MosaicCommand
{
    public static Command Create()
    {
        var source = Text("--idx", "Folder of idx files (train-* and t10k-*; default: the fetched Fashion-MNIST).");
        var output = Text("--out", "Folder to write images/ and labels.csv (fname,labels,is_valid) into.", required: true);
        var count = Int("--count", "How many mosaics.", 10_000, 1, 10_000_000);
        var valid = Number("--valid-pct", "Share of mosaics made from valid images and marked is_valid.", 0.2, 0, 0.9);
        var seed = Int("--seed", "Random seed.", 0);
        var c = new Command("mosaic", "A multi-label task from real images: 2x2 mosaics of idx images (Fashion-MNIST), labelled with the set of classes present (train --format csv --heads class).")
            { source, output, count, valid, seed };
        c.SetAction(r =>
        {
            Dataset idx = new DataSpec { Format = "idx", Paths = [r.GetValue(source) ?? ExternalData.Find("fashion-mnist")] }.Load();
            Mosaics.Write(idx, r.Get(output), r.GetValue(count), r.GetValue(valid), r.GetValue(seed), Console.Out);
            return 0;
        });
        return c;
    }
}
