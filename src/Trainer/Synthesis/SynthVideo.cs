using System;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;
using HeadTracking.Trainer.Data;
using OpenCvSharp;

namespace HeadTracking.Trainer.Synthesis;

/// <summary>How far a <see cref="SynthVideo"/> head turns (yaw), nods (pitch) and tilts (roll)
/// either way, degrees.</summary>
internal sealed record SynthMotion(double Yaw = 35, double Pitch = 15, double Roll = 12)
{
    public static SynthMotion Default { get; } = new();
}

/// <summary>
/// Videos of one synthetic person moving, with the truth of every frame: the test and benchmark
/// footage for the runtime, the demo and the benchmark. The head turns, nods, tilts, drifts across
/// the frame and comes closer and further along smooth, incommensurate sines, so no two seconds
/// repeat; the face, background and light stay those of one sample.
/// </summary>
internal static class SynthVideo
{
    /// <summary>The video's file name inside its folder; the truth is <see cref="LabelsFile.FileName"/> beside it.</summary>
    public const string VideoName = "video.avi";

    /// <summary>The geometry of frame <paramref name="frame"/> at <paramref name="fps"/>; the face
    /// is <paramref name="faceFraction"/> of the frame wide on average (±1/6 of that); the head turns,
    /// nods and tilts as far as <paramref name="motion"/> says (default ±35°, ±15°, ±12°).</summary>
    public static SynthScene Scene(int frame, double fps, double fovDegrees, double faceFraction = 0.3, SynthMotion? motion = null)
    {
        double t = frame / fps;
        double Wave(double period, double phase) => Math.Sin((2 * Math.PI * t / period) + phase);
        SynthMotion m = motion ?? SynthMotion.Default;
        return new SynthScene(
            Yaw: m.Yaw * Wave(6.1, 0),
            Pitch: m.Pitch * Wave(4.3, 1),
            Roll: m.Roll * Wave(5.3, 2),
            U: 0.5 + (0.15 * Wave(7.7, 0.5)),
            V: 0.5 + (0.1 * Wave(6.7, 2.5)),
            FaceFraction: faceFraction * (1 + (Wave(9.1, 1.5) / 6)),
            FovDegrees: fovDegrees);
    }

    /// <summary>
    /// Writes <paramref name="frames"/> frames of sample <paramref name="index"/> as an MJPG video
    /// with its labels into the folder <paramref name="outDir"/> (built aside, renamed into
    /// place). Frames are rendered on <paramref name="threads"/> threads and written in order.
    /// </summary>
    public static void Write(HeadSynthesizer synth, string outDir, int frames, double fps, double fovDegrees, int index, int threads, TextWriter log, double faceFraction = 0.3, SynthMotion? motion = null)
    {
        var clock = Stopwatch.StartNew();
        int size = synth.Options.Size;
        AtomicDirectory.Write(outDir, temp =>
        {
            var labels = new HeadLabel[frames];
            using (var writer = new VideoWriter(Path.Combine(temp, VideoName), FourCC.MJPG, fps, new Size(size, size)))
            {
                if (!writer.IsOpened())
                {
                    throw new IOException($"{Path.Combine(outDir, VideoName)}: OpenCV cannot write an MJPG video here");
                }

                const int Chunk = 32;
                var images = new Mat[Chunk];
                for (int start = 0; start < frames; start += Chunk)
                {
                    int n = Math.Min(Chunk, frames - start);
                    Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
                    {
                        using SynthSample sample = synth.Generate(index, Scene(start + i, fps, fovDegrees, faceFraction, motion));
                        images[i] = sample.Image.Clone();
                        labels[start + i] = sample.Label with { Image = $"{VideoName}#{start + i:D6}", Mask = null, Split = "valid" };
                    });
                    for (int i = 0; i < n; i++)
                    {
                        writer.Write(images[i]);
                        images[i].Dispose();
                    }
                }
            }

            LabelsFile.Write(Path.Combine(temp, LabelsFile.FileName), labels);
            return 0;
        });
        log.WriteLine($"Wrote {frames} frames ({frames / fps:F1} s at {fps:F0} fps, {size}x{size}) with their truth to {Path.GetFullPath(outDir)} in {clock.Elapsed.TotalSeconds:F1} s");
    }
}
