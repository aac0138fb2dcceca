using System;
using System.CommandLine;
using HeadTracking.Trainer.Synthesis;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Trainer.Cli.Commands;

/// <summary><c>synth-video</c>: a synthetic person moving, with the truth of every frame.</summary>
internal static class SynthVideoCommand
{
    public static Command Create()
    {
        var output = Text("--out", "Folder to write video.avi (MJPG) and labels.jsonl (the truth of every frame) into.", required: true);
        var frames = Int("--frames", "How many frames.", 300, 1, 1_000_000);
        var fps = Number("--fps", "Frame rate.", 30, 1, 240);
        var size = Int("--size", "Frame size in pixels (square).", 256, 32, 2048);
        var fov = Number("--fov", "Camera's horizontal field of view in degrees.", 60, 20, 120);
        var seed = Int("--seed", "Random seed: picks the person, background and light.", 0);
        var sample = Int("--sample", "Which sample of the seed to animate (another person, background, light).", 0, 0);
        var face = Number("--face", "Average face width as a fraction of the frame.", 0.3, 0.02, 1);
        var yaw = Number("--yaw", "How far the head turns either way, degrees.", 35, 0, 90);
        var pitch = Number("--pitch", "How far the head nods either way, degrees.", 15, 0, 60);
        var roll = Number("--roll", "How far the head tilts either way, degrees.", 12, 0, 60);
        var threads = Int("--threads", "Worker threads.", Environment.ProcessorCount, 1, 256);
        var c = new Command("synth-video", "Renders a video of one synthetic person turning, nodding, tilting and moving, with the truth of every frame.")
            { output, frames, fps, size, fov, seed, sample, face, yaw, pitch, roll, threads };
        c.SetAction(r =>
        {
            // Held-out identities only: footage for testing a model should show no one it trained on.
            var options = new SynthOptions { Size = r.GetValue(size), Seed = r.GetValue(seed), ValidFraction = 1, OcclusionProbability = 0 };
            HeadSynthesizer synth = SynthWriter.Create(options, new SynthWriter.Sources(), Console.Out);
            SynthVideo.Write(synth, r.Get(output), r.GetValue(frames), r.GetValue(fps), r.GetValue(fov), r.GetValue(sample), r.GetValue(threads), Console.Out, r.GetValue(face), new SynthMotion(r.GetValue(yaw), r.GetValue(pitch), r.GetValue(roll)));
            return 0;
        });
        return c;
    }
}
