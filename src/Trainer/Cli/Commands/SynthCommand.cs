using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Synthesis;
using OpenCvSharp;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Trainer.Cli.Commands;

/// <summary><c>synth</c>: labelled synthetic heads over real backgrounds.</summary>
internal static class SynthCommand
{
    public static Command Create()
    {
        var output = Text("--out", "Folder to write NNNNNN.jpg, NNNNNN_mask.png and labels.jsonl into.", required: true);
        var count = Int("--count", "How many images.", 1000, 1, 10_000_000);
        var size = Int("--size", "Image size in pixels.", 128, 32, 1024);
        var seed = Int("--seed", "Random seed: the same seed gives the same bytes.", 0);
        var threads = Int("--threads", "Worker threads.", Environment.ProcessorCount, 1, 256);
        var preview = Text("--preview", "Also draw the first samples with their labels into this PNG.");
        var faces = Text("--faces", "Folder of face photos to texture heads from (default: the fetched samples).");
        var backgrounds = Text("--backgrounds", "Folder of background photos (default: OpenCV's samples).");
        var minFace = Number("--min-face", "Smallest face width as a fraction of the image.", 0.2, 0.05, 1.5);
        var maxFace = Number("--max-face", "Largest face width as a fraction of the image.", 0.6, 0.05, 1.5);
        var maxShift = Number("--max-shift", "How far the head may be from the centre, as a fraction of the image.", 0.5, 0, 0.5);
        var noOcclusion = Flag("--no-occlusion", "Never put an occluder over the head.");
        var unwrap = Text("--unwrap", "How face textures are taken from the photos: dense (default: each mesh vertex at the dense teacher's landmark, so the texture's eyes, nose and mouth land on the mesh's; faces it cannot label are left out) or keypoints (the canonical mesh posed on BlazeFace's six keypoints, as before 2026-12-05: the texture's features land off the mesh's).");
        var parts = Flag("--parts", "Write a segmentation data set instead, in CamVid's layout: images/, labels/NNNNNN_P.png with the part of every pixel (background, face, hair, neck, occluder), codes.txt, valid.txt.");
        var c = new Command("synth", "Renders labelled synthetic heads (textured face mesh, skull, hair, neck) over real backgrounds.")
            { output, count, size, seed, threads, preview, faces, backgrounds, minFace, maxFace, maxShift, noOcclusion, unwrap, parts };
        c.SetAction(r =>
        {
            var options = new SynthOptions
            {
                Size = r.GetValue(size),
                Seed = r.GetValue(seed),
                MinFaceFraction = r.GetValue(minFace),
                MaxFaceFraction = r.GetValue(maxFace),
                MaxShift = r.GetValue(maxShift),
                OcclusionProbability = r.GetValue(noOcclusion) ? 0 : 0.15,
            };
            if (options.MaxFaceFraction < options.MinFaceFraction)
            {
                throw new ArgumentException("options --min-face/--max-face: min-face is larger than max-face");
            }

            return Synth(options, r.Get(output), r.GetValue(count), r.GetValue(threads), r.GetValue(preview), new SynthWriter.Sources(r.GetValue(faces), r.GetValue(backgrounds), Unwrap: r.GetValue(unwrap)), r.GetValue(parts));
        });
        return c;
    }

    private static int Synth(SynthOptions options, string output, int count, int threads, string? preview, SynthWriter.Sources sources, bool parts)
    {
        HeadSynthesizer synth = SynthWriter.Create(options, sources, Console.Out);
        if (parts)
        {
            SynthWriter.WriteParts(synth, output, count, threads, Console.Out);
        }
        else
        {
            SynthWriter.Write(synth, output, count, threads, Console.Out);
        }

        if (preview != null)
        {
            var samples = Enumerable.Range(0, Math.Min(count, 24)).Select(i => synth.Generate(i)).ToList();
            try
            {
                ContactSheet.Write(preview, [.. samples.Select(s => (s.Image, (Mat?)(parts ? s.Parts : s.Mask), parts ? s.Label with { Keypoints = null, Box = null, Center = null } : s.Label))], maskCodes: parts ? HeadSynthesizer.PartCodes.Length : 0);
            }
            finally
            {
                samples.ForEach(s => s.Dispose());
            }

            Console.WriteLine($"Preview: {Path.GetFullPath(preview)}");
        }

        return 0;
    }
}
