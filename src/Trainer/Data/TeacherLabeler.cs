using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using HeadTracking.Runtime.Detection;
using OpenCvSharp;

namespace HeadTracking.Trainer.Data;

/// <summary>
/// Labels real images or video frames with the pretrained BlazeFace detector: one labels.jsonl
/// record per face found (box, six keypoints, score), source "teacher". With the dense teacher
/// (<paramref name="dense"/>), each face also gets the 468 face-mesh landmarks, the six keypoints
/// taken from them, the head centre and the pose fitted to them, and faces whose pose the teacher
/// cannot reproduce on the mirror image (more than <paramref name="maxDisagreement"/> degrees)
/// are dropped. The images are copied (video frames written as JPEG) into the output folder, so
/// the data set stands on its own.
/// </summary>
internal sealed class TeacherLabeler(BlazeFaceDetector detector, float minScore = 0.5f, Teachers.FaceMeshTeacher? dense = null, double maxDisagreement = 10)
{
    private static readonly string[] s_imageExtensions = [".jpg", ".jpeg", ".png", ".bmp"];

    /// <summary>Labels a folder of images or a video file into <paramref name="outDir"/>.</summary>
    /// <param name="every">For video: label every n-th frame.</param>
    /// <param name="maxFrames">For video: stop after this many labelled frames.</param>
    /// <exception cref="InvalidDataException">Strict mode and an image cannot be read.</exception>
    public (int Images, int Faces) Run(string input, string outDir, SkipReport skipped, bool strict, int every = 1, int maxFrames = int.MaxValue)
    {
        if (!Directory.Exists(input) && !File.Exists(input))
        {
            throw new FileNotFoundException($"input not found: {input} (a folder of images or a video file)", input);
        }

        return AtomicDirectory.Write(outDir, temp =>
        {
            var labels = new List<HeadLabel>();
            int images = Directory.Exists(input)
                ? LabelFolder(input, temp, labels, skipped, strict)
                : LabelVideo(input, temp, labels, skipped, every, maxFrames);
            LabelsFile.Write(Path.Combine(temp, LabelsFile.FileName), labels);
            return (images, labels.Count);
        });
    }

    private int LabelFolder(string folder, string outDir, List<HeadLabel> labels, SkipReport skipped, bool strict)
    {
        int images = 0;
        var files = Directory.GetFiles(folder).Where(f => s_imageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal);
        foreach (string file in files)
        {
            using Mat image = Cv2.ImRead(file, ImreadModes.Color);
            if (image.Empty())
            {
                string why = $"{file}: not an image OpenCV can decode";
                if (strict)
                {
                    throw new InvalidDataException(why);
                }

                skipped.Add(why);
                continue;
            }

            string name = Path.GetFileName(file);
            File.Copy(file, Path.Combine(outDir, name));
            Label(image, name, labels, skipped);
            images++;
        }

        return images;
    }

    private int LabelVideo(string path, string outDir, List<HeadLabel> labels, SkipReport skipped, int every, int maxFrames)
    {
        using var source = new Runtime.Capture.VideoFileSource(path);
        using var frame = new Mat();
        int index = 0, written = 0;
        while (written < maxFrames && source.Read(frame))
        {
            if (index++ % every != 0)
            {
                continue;
            }

            string name = $"{Path.GetFileNameWithoutExtension(path)}_{index - 1:D6}.jpg";
            Cv2.ImWrite(Path.Combine(outDir, name), frame, new ImageEncodingParam(ImwriteFlags.JpegQuality, 95));
            Label(frame, name, labels, skipped);
            written++;
        }

        return written;
    }

    private void Label(Mat image, string name, List<HeadLabel> labels, SkipReport skipped)
    {
        var faces = new FaceDetections();
        detector.Detect(image, faces);
        for (int f = 0; f < faces.Count; f++)
        {
            if (faces.Scores[f] < minScore)
            {
                continue;
            }

            var label = new HeadLabel
            {
                Image = name,
                Width = image.Width,
                Height = image.Height,
                Source = "teacher",
                Identity = $"{name}#{f}",
                Box = [.. faces.Boxes.Skip(f * 4).Take(4).Select(v => Math.Round((double)v, 2))],
                Keypoints = [.. Enumerable.Range(0, FaceDetections.KeypointCount).Select(k => new[]
                {
                    Math.Round((double)faces.Keypoints[(f * 12) + (k * 2)], 2), Math.Round((double)faces.Keypoints[(f * 12) + (k * 2) + 1], 2), 1.0,
                })],
                Score = Math.Round((double)faces.Scores[f], 4),
            };
            if (dense != null)
            {
                Teachers.FaceMeshResult? mesh = dense.Label(image, label.Box);
                if (mesh == null || !(mesh.MirrorDisagreement <= maxDisagreement))
                {
                    skipped.Add($"{name} face {f}: the dense teacher " + (mesh == null ? "found no pose" : $"disagrees with itself on the mirror image by {mesh.MirrorDisagreement:F1} degrees (more than {maxDisagreement})"));
                    continue;
                }

                label = dense.ToLabel(label, mesh, image.Width, image.Height);
            }

            labels.Add(label);
        }
    }
}
