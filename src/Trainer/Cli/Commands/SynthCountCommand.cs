using System;
using System.CommandLine;
using HeadTracking.Trainer.Synthesis;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Trainer.Cli.Commands;

/// <summary><c>synth-count</c>: images of N circles, a folder per count.</summary>
internal static class SynthCountCommand
{
    public static Command Create()
    {
        var output = Text("--out", "Folder to write train/N/*.png and valid/N/*.png into (N: the number of circles).", required: true);
        var count = Int("--count", "How many images.", 1000, 1, 10_000_000);
        var min = Int("--min", "Fewest circles in an image.", 1, 1, 10_000);
        var max = Int("--max", "Most circles in an image.", 5, 1, 10_000);
        var size = Int("--size", "Image size in pixels.", 128, 16, 2048);
        var seed = Int("--seed", "Random seed: the same seed gives the same bytes.", 0);
        var valid = Number("--valid-pct", "Share of images written to valid/.", 0.2, 0, 0.9);
        var threads = Int("--threads", "Worker threads.", Environment.ProcessorCount, 1, 256);
        var c = new Command("synth-count", "Images of N circles (N from --min to --max) in a folder per count, for counting as classification (train --format folder --heads class).")
            { output, count, min, max, size, seed, valid, threads };
        c.SetAction(r =>
        {
            CountingImages.Write(
                new CountingOptions { Count = r.GetValue(count), Min = r.GetValue(min), Max = r.GetValue(max), Size = r.GetValue(size), Seed = r.GetValue(seed), ValidFraction = r.GetValue(valid) },
                r.Get(output), r.GetValue(threads), Console.Out);
            return 0;
        });
        return c;
    }
}
